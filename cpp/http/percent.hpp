// Percent-decoding of a request path (RFC 3986 §2.1), for PATH_INFO.
#pragma once

#include <string>
#include <string_view>

namespace monoceros::http {

// Decodes every "%XX" (two hex digits) to its byte; a '%' not followed by two hex digits stays
// as it is, like Python's urllib.parse.unquote_to_bytes, which gunicorn uses.
void percent_decode(std::string_view text, std::string& out);

}  // namespace monoceros::http
