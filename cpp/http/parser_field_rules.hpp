// After the last field line: unfold obs-folds, then the rules that span several fields.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "http/byte_classes.hpp"
#include "http/errors.hpp"
#include "http/framing.hpp"
#include "http/host.hpp"
#include "http/parser.hpp"
#include "http/request.hpp"

namespace monoceros::http::detail {

using grammar::iequals;

// Internal linkage, as in one file (see parser_internal.hpp).
namespace {

// RFC 9112 §5.2 (permit_obsolete_folding): replaces each obs-fold in a value, in place, by one
// SP, as gunicorn joins the trimmed lines; then trims the whole value.
void unfold_value(char* buffer, const char* base, Header& header) {
  char* const begin = buffer + (header.value.data() - base);
  const char* read = begin;
  const char* const end = read + header.value.size();
  char* write = begin;
  bool first = true;
  while (true) {
    const char* piece_end = read;
    while (piece_end < end && *piece_end != '\r')
      ++piece_end;
    const std::string_view piece = grammar::trim_ows(std::string_view(read, piece_end - read));
    if (!first) *write++ = ' ';
    first = false;
    std::memmove(write, piece.data(), piece.size());  // never ahead of `read`: safe in place
    write += piece.size();
    if (piece_end == end) break;
    read = piece_end + 2;  // skip CRLF: continuation lines always end in one
  }
  header.value =
      grammar::trim_ows(std::string_view(begin, static_cast<std::size_t>(write - begin)));
}

bool connection_has_option(std::string_view value, std::string_view option) {
  // RFC 9110 §7.6.1: Connection = #connection-option; options are case-insensitive tokens.
  if (value.find(',') == std::string_view::npos) return iequals(value, option);  // one option
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t comma = value.find(',', start);
    if (comma == std::string_view::npos) comma = value.size();
    if (iequals(grammar::trim_ows(value.substr(start, comma - start)), option)) return true;
    start = comma + 1;
  }
  return false;
}

// The rules that span several fields, checked in a fixed order once every line is valid.
ParseError analyse_fields(const ParserOptions& options, Request& out) {
  const bool http11 = out.version_major > 1 || (out.version_major == 1 && out.version_minor >= 1);
  std::string_view host;
  std::string_view content_length;
  unsigned host_count = 0;
  unsigned content_type_count = 0;
  unsigned content_length_count = 0;
  unsigned transfer_encoding_count = 0;
  grammar::TransferCodings codings;
  bool connection_seen = false;
  bool keep_alive_option = false;
  bool close_option = false;
  bool expect_continue = false;
  bool expect_other = false;

  for (const Header& header : out.headers) {
    // The length picks the few names that matter before any comparison.
    switch (header.name.size()) {
      case 4:
        if (iequals(header.name, "host") && host_count++ == 0) host = header.value;
        break;
      case 6:
        if (iequals(header.name, "expect")) {
          // RFC 9110 §10.1.1: only 100-continue exists (case-insensitive).
          if (iequals(header.value, "100-continue")) {
            expect_continue = true;
          } else {
            expect_other = true;
          }
        }
        break;
      case 10:
        if (iequals(header.name, "connection")) {
          // RFC 9112 §9.3 as gunicorn reads it: the first Connection field decides keep-alive,
          // but a "close" anywhere closes (RFC 9112 §9.6: MUST initiate closure).
          if (!connection_seen) {
            keep_alive_option = connection_has_option(header.value, "keep-alive");
          }
          connection_seen = true;
          close_option = close_option || connection_has_option(header.value, "close");
        }
        break;
      case 12:
        if (iequals(header.name, "content-type")) ++content_type_count;
        break;
      case 14:
        if (iequals(header.name, "content-length") && content_length_count++ == 0) {
          content_length = header.value;
        }
        break;
      case 17:
        if (iequals(header.name, "transfer-encoding")) {
          ++transfer_encoding_count;
          codings.add(header.value);
        }
        break;
      default:
        break;
    }
  }

  // RFC 9112 §3.2: exactly one valid Host; a 1.1 request without one is refused (G1, G2, C13).
  if (host_count > 1) return ParseError::invalid_host;
  if (host_count == 1 && !grammar::is_valid_host(host, grammar::PortRule::optional)) {
    return ParseError::invalid_host;
  }
  if (host_count == 0 && http11 && options.require_host) return ParseError::missing_host;
  // RFC 9110 §5.3: Content-Type is a singleton (C13, gunicorn 26.1).
  if (content_type_count > 1) return ParseError::duplicate_header;

  // RFC 9112 §6.3(5): one valid Content-Length; duplicates are refused even if equal (D1-D8).
  if (content_length_count > 1) return ParseError::invalid_content_length;
  std::uint64_t length = 0;
  if (content_length_count == 1 && !grammar::parse_content_length_value(content_length, length)) {
    return ParseError::invalid_content_length;
  }
  if (transfer_encoding_count > 0) {
    // RFC 9112 §6.1 / §6.3(3): both framings at once is a smuggling attempt (D9), and an
    // HTTP/1.0 message with Transfer-Encoding has faulty framing (E1).
    if (content_length_count > 0) return ParseError::conflicting_framing;
    if (!http11) return ParseError::invalid_transfer_encoding;
    const ParseError e = codings.finish();
    if (e != ParseError::none) return e;
    out.framing = BodyFraming::chunked;
  } else if (content_length_count == 1) {
    out.framing = BodyFraming::content_length;
    out.content_length = length;
  }

  // RFC 9110 §10.1.1: Expect means nothing to an HTTP/1.0 server (ignored, as gunicorn does).
  if (http11) {
    if (expect_other) return ParseError::expectation_failed;
    out.expect_continue = expect_continue;
  }

  // RFC 9112 §9.3: 1.1 persists unless "close"; 1.0 only with "keep-alive".
  out.keep_alive = !close_option && (http11 || keep_alive_option);
  return ParseError::none;
}

}  // namespace

}  // namespace monoceros::http::detail
