// Content-Length and Transfer-Encoding value rules (RFC 9112 §6, RFC 9110 §8.6).
#include "http/framing.hpp"

#include <limits>

#include "http/byte_classes.hpp"

namespace monoceros::http::grammar {

bool parse_content_length_value(std::string_view text, std::uint64_t& value) noexcept {
  // Digits are checked one by one against the table: no strtoll (base 0 reads "010" as octal,
  // skips whitespace and accepts signs; checklist rule 3).
  if (text.empty() || text.size() > 19) return false;
  std::uint64_t result = 0;
  for (char c : text) {
    if (!is_digit(c)) return false;
    result = result * 10 + static_cast<std::uint64_t>(c - '0');  // 19 digits cannot wrap
  }
  if (result > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return false;
  value = result;
  return true;
}

ParseError TransferCodings::add(std::string_view field_value) noexcept {
  if (error_ != ParseError::none) return error_;
  bool any_element = false;
  std::size_t start = 0;
  while (start <= field_value.size()) {
    std::size_t comma = field_value.find(',', start);
    if (comma == std::string_view::npos) comma = field_value.size();
    // RFC 9110 §5.6.1: #element lists; empty elements are ignored (checklist E6).
    const std::string_view coding = trim_ows(field_value.substr(start, comma - start));
    start = comma + 1;
    if (coding.empty()) continue;
    any_element = true;
    if (chunked_) {
      // RFC 9112 §6.3(4) / §6.1: chunked must be the final coding and applied once (E2, E3).
      error_ = ParseError::invalid_transfer_encoding;
      return error_;
    }
    if (!is_token(coding)) {
      // RFC 9112 §7: transfer-coding = token *( OWS ";" OWS transfer-parameter ); parameters on
      // chunked are an error (E8) and nothing else may decorate a name (E5).
      error_ = ParseError::invalid_transfer_encoding;
      return error_;
    }
    // RFC 9112 §7: coding names are case-insensitive (E7).
    if (iequals(coding, "chunked")) {
      chunked_ = true;
    } else if (iequals(coding, "gzip") || iequals(coding, "deflate") ||
               iequals(coding, "compress")) {
      compressed_ = true;
    } else if (!iequals(coding, "identity")) {
      // RFC 9112 §6.1: a coding we do not understand SHOULD get 501 (E4).
      error_ = ParseError::unsupported_transfer_coding;
      return error_;
    }
  }
  if (!any_element) error_ = ParseError::invalid_transfer_encoding;  // empty value (E9)
  return error_;
}

ParseError TransferCodings::finish() const noexcept {
  if (error_ != ParseError::none) return error_;
  // Codings we know but cannot frame a request body with ("gzip", "identity" alone): 501, and
  // never fall back to Content-Length or to "no body" (E4).
  if (!chunked_) return ParseError::unsupported_transfer_coding;
  // "gzip, chunked": we would hand the app a body still compressed, under a Transfer-Encoding
  // it cannot be expected to undo (WSGI has no way to say so): 501, as nginx does (E10).
  if (compressed_) return ParseError::unsupported_transfer_coding;
  return ParseError::none;
}

}  // namespace monoceros::http::grammar
