// Every way a request can be rejected, and the one table that maps each to a status and reason.
#pragma once

#include <cstdint>
#include <string_view>

namespace monoceros::http {

// Values, not exceptions: the parser returns one of these and the worker answers with
// describe(error).status, adds Connection: close and parses nothing further.
enum class ParseError : std::uint8_t {
  none = 0,
  invalid_request_line,         // 400: request-line grammar (RFC 9112 section 3)
  invalid_method,               // 400: method is not a token, or not conventional (gunicorn rule)
  invalid_target,               // 400: request-target form or characters
  invalid_version,              // 400: HTTP-version grammar
  unsupported_version,          // 505: a well-formed version we do not speak (HTTP/2.0, 3.0)
  request_line_too_long,        // 414: limit_request_line
  invalid_header_name,          // 400: field-name is not a token (or SP before the colon)
  invalid_header,               // 400: field-line syntax or field-value characters
  obsolete_folding,             // 400: obs-fold without permit_obsolete_folding
  too_many_headers,             // 431: limit_request_fields
  header_too_large,             // 431: limit_request_field_size or the header-section cap
  missing_host,                 // 400: HTTP/1.1 request without Host (RFC 9112 section 3.2)
  invalid_host,                 // 400: duplicate or malformed Host
  duplicate_header,             // 400: a singleton field repeated (Content-Type)
  invalid_content_length,       // 400: Content-Length syntax, duplicates, overflow
  conflicting_framing,          // 400: Content-Length together with Transfer-Encoding
  invalid_transfer_encoding,    // 400: chunked repeated, not last, with HTTP/1.0, decorated
  unsupported_transfer_coding,  // 501: a coding we do not implement
  invalid_chunk_size,           // 400: chunk-size grammar or overflow
  invalid_chunk_extension,      // 400: chunk-ext grammar, bare CR, over the line cap
  chunk_missing_terminator,     // 400: chunk data not followed by CRLF, last chunk without CRLF
  invalid_trailer,              // 400: trailer field syntax, forbidden name, too many/large
  expectation_failed,           // 417: Expect other than 100-continue
  invalid_underscore_header,    // 400: header_map = refuse and a name contains '_'
  invalid_scheme_headers,       // 400: secure_scheme_headers disagree (trusted peer)
  configuration_problem,        // 500: PATH_INFO does not start with SCRIPT_NAME
  invalid_proxy_line,           // 400: malformed PROXY protocol v1 line or v2 header
  forbidden_proxy,              // 403: PROXY header from a peer not in proxy_allow_ips
  body_too_large,               // 413: request body above limit_request_body
  body_storage_failed,          // 500: the body could not be spooled (disk full, no tmp dir)
  body_spool_full,              // 503: the worker's spooled bodies would pass body_spool_limit
  count_                        // not an error: the number of entries in the table
};

struct ErrorInfo {
  int status;                // HTTP status code sent to the client
  std::string_view reason;   // reason phrase for the status line
  std::string_view message;  // short human text, used in the error page and the error log
};

// The single mapping from error to response; total over every enumerator except count_.
const ErrorInfo& describe(ParseError error) noexcept;

}  // namespace monoceros::http
