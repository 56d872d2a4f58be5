// The field lines of the header section (RFC 9112 §5), one at a time, within the limits.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "http/byte_classes.hpp"
#include "http/errors.hpp"
#include "http/field_line.hpp"
#include "http/parser.hpp"
#include "http/parser_internal.hpp"

namespace monoceros::http::detail {

using grammar::is_ows;

// Progress through the header section.
struct Section {
  std::size_t start = 0;        // first octet after the request-line
  std::size_t hard_end = 0;     // no octet of the section may sit at or beyond this offset
  std::size_t fields = 0;       // field lines seen (dropped ones included: gunicorn counts them)
  std::size_t field_bytes = 0;  // octets of the last field, CRLFs and obs-fold lines included
};

struct Line {
  enum Kind : std::uint8_t { field, fold, end } kind = end;
  std::string_view name;   // field
  std::string_view value;  // field: trimmed value; fold: trimmed continuation text
  bool keep = true;        // field: survives the underscore policy
  std::size_t next = 0;    // first octet after the line's LF
};

// Internal linkage, as in one file (see parser_internal.hpp).
namespace {

// gunicorn's HeaderPolicy for names containing "_" (which would collide with "-" in environ):
// a trusted forwarder's listed names pass; otherwise header_map decides.
ParseError underscore_policy(const Scan& scan, std::string_view name, bool& keep) {
  keep = true;
  if (scan.peer_is_trusted) {
    if (scan.options.forwarder_headers_all) return ParseError::none;
    for (const std::string& allowed : scan.options.forwarder_headers) {
      if (allowed.size() != name.size()) continue;
      bool same = true;
      for (std::size_t i = 0; i < name.size() && same; ++i) {
        same = grammar::to_upper(name[i]) == grammar::to_upper(allowed[i]);
      }
      if (same) return ParseError::none;
    }
  }
  switch (scan.options.header_map) {
    case UnderscoreHeaders::drop:
      keep = false;  // still counted against the limits, as in gunicorn
      return ParseError::none;
    case UnderscoreHeaders::refuse:
      return ParseError::invalid_underscore_header;
    case UnderscoreHeaders::dangerous:
      return ParseError::none;
  }
  return ParseError::none;
}

// Reads one line of the header section at `i`. `scanned_to` says where a previous call already
// looked for the LF in vain (a hint; `i` when unknown).
MONOCEROS_HTTP_INLINE Step scan_field_line(const Scan& scan, std::size_t i, std::size_t scanned_to,
                                           Section& section, Line& line, ParseError& error) {
  const char* b = scan.b;
  const std::size_t n = scan.n;
  auto fail = [&](ParseError e) {
    error = e;
    return Step::error;
  };
  if (i >= n) return Step::partial;
  const char first = b[i];
  if (first == '\r') {
    // RFC 9112 §2.1: the empty line that ends the header section.
    if (i + 2 > section.hard_end) return fail(ParseError::header_too_large);
    if (i + 1 == n) return Step::partial;
    if (b[i + 1] != '\n') return fail(ParseError::invalid_header);  // bare CR (RFC 9112 §2.2)
    line.kind = Line::end;
    line.next = i + 2;
    return Step::done;
  }
  if (first == '\n') return fail(ParseError::invalid_header);  // bare LF (checklist C9)

  std::size_t room;  // octets this line may occupy, CRLF included
  if (is_ows(first)) {
    // RFC 9112 §5.2: obs-fold. Before any field it is a whitespace-led line (checklist C3).
    if (section.fields == 0) return fail(ParseError::invalid_header);
    if (!scan.options.permit_obsolete_folding) return fail(ParseError::obsolete_folding);
    line.kind = Line::fold;
    room = scan.limits.field_size > section.field_bytes
               ? scan.limits.field_size - section.field_bytes
               : 0;
  } else {
    // gunicorn checks the count before reading each field: at most `fields` field lines.
    if (section.fields >= scan.limits.fields) return fail(ParseError::too_many_headers);
    line.kind = Line::field;
    room = scan.limits.field_size;
  }

  // The line, CRLF included, must end before window_end: past it, the field or the section is
  // too large.
  const std::size_t window_end = std::min(i + room, section.hard_end);
  if (scanned_to > i) {
    // Resumed on a line seen before: validate it again only once its LF is here (or the line
    // has outgrown its window); until then look at the new octets alone.
    const std::size_t search_end = std::min(n, window_end);
    const bool has_lf =
        scanned_to < search_end && std::memchr(b + scanned_to, '\n', search_end - scanned_to);
    if (!has_lf && n < window_end) return Step::partial;
  }
  grammar::FieldLine field;
  const grammar::LineStatus status = grammar::scan_field_line(
      std::string_view(b + i, n - i), window_end > i ? window_end - i : 0, line.kind == Line::fold,
      scan.options.strip_header_spaces, field, error);
  switch (status) {
    case grammar::LineStatus::partial:
      return Step::partial;
    case grammar::LineStatus::too_large:
      return fail(ParseError::header_too_large);
    case grammar::LineStatus::invalid:
      return Step::error;
    case grammar::LineStatus::complete:
      break;
  }
  line.name = field.name;
  line.value = field.value;
  line.next = i + field.length;
  if (line.kind == Line::fold) {
    section.field_bytes += field.length;
    return Step::done;
  }
  ++section.fields;
  section.field_bytes = field.length;
  line.keep = true;
  if (field.name_has_underscore) {
    const ParseError e = underscore_policy(scan, line.name, line.keep);
    if (e != ParseError::none) return fail(e);
  }
  return Step::done;
}

}  // namespace

}  // namespace monoceros::http::detail
