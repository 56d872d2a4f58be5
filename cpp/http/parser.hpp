// parse_request: bytes -> Request head. Pure (no I/O, no allocation beyond Request::headers),
// strict by default per RFC 9110/9112, every leniency a named option.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "http/errors.hpp"
#include "http/request.hpp"

namespace monoceros::http {

// What to do with a field name containing '_' (gunicorn's header_map setting).
enum class UnderscoreHeaders : std::uint8_t { drop, refuse, dangerous };

// Parser settings; the defaults are gunicorn's defaults made strict where the RFC says MUST.
struct ParserOptions {
  std::size_t limit_request_line = 4094;        // 0 = unlimited (still capped at 8190 + 2)
  std::size_t limit_request_fields = 100;       // 0 or > 32768 -> 32768 (gunicorn clamping)
  std::size_t limit_request_field_size = 8190;  // 0 -> 8190 (gunicorn clamping)
  bool permit_obsolete_folding = false;
  bool strip_header_spaces = false;
  bool permit_unconventional_http_method = false;
  bool permit_unconventional_http_version = false;
  bool casefold_http_method = false;
  bool require_host = true;  // HTTP/1.1 without Host -> missing_host (RFC 9112 section 3.2)
  UnderscoreHeaders header_map = UnderscoreHeaders::drop;
  // Upper-case names (e.g. "SCRIPT_NAME") that a trusted forwarder may send with '_'.
  std::vector<std::string> forwarder_headers = {"SCRIPT_NAME", "PATH_INFO"};
  bool forwarder_headers_all = false;  // the list contained "*"
};

enum class ParseStatus : std::uint8_t { complete, partial, error };

struct ParseResult {
  ParseStatus status = ParseStatus::partial;
  ParseError error = ParseError::none;  // set when status == error
  std::size_t consumed = 0;             // head length when complete, else 0
};

// Parses one request head from the start of `buffer`.
// - complete: `out` holds the request; the body (if any) starts at buffer[consumed].
// - partial: more bytes are needed; call again with the same bytes plus more. Limits are
//   enforced on partial input too, so an over-long line fails before its CRLF arrives.
// - error: `out` is unspecified; the caller answers describe(error) and closes.
// The buffer is mutable only so the opt-in leniencies (casefold_http_method,
// permit_obsolete_folding) can rewrite bytes in place; strict parsing never writes.
// `peer_is_trusted` says whether forwarder_headers apply (the peer is in forwarded_allow_ips).
ParseResult parse_request(std::span<char> buffer, const ParserOptions& options,
                          bool peer_is_trusted, Request& out);

}  // namespace monoceros::http
