// parse_request: the strict HTTP/1.1 request-head parser (RFC 9112 §2-§6, RFC 9110 §5-§7).
//
// Shape: one pass over the head, line by line, each line validated as it is read (wide scans for
// the long runs: target and values), inside a window the limits size. Every decision depends only
// on the octets before the point where it is made, so splitting the input differently never
// changes the outcome, only when it comes. Cross-field rules (Host, Content-Length,
// Transfer-Encoding, ...) run after the last line. On a partial head, Request::resume records the
// incomplete line so the next call looks at new octets only (memchr for its LF) until it is whole.
#include "http/parser.hpp"

#include <algorithm>
#include <cstring>

#include "http/byte_classes.hpp"
#include "http/field_line.hpp"
#include "http/framing.hpp"
#include "http/host.hpp"
#include "http/limits.hpp"
#include "http/wide_scan.hpp"

namespace monoceros::http {
namespace {

using grammar::EffectiveLimits;
using grammar::has;
using grammar::iequals;
using grammar::is_digit;
using grammar::is_ows;
using grammar::is_tchar;

// RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request-line; we
// ignore a few and refuse a stream of them (checklist A16).
constexpr std::size_t k_max_leading_empty_lines = 8;

enum class Step : std::uint8_t { done, partial, error };

// ---------------------------------------------------------------------------------------------
// Request line

struct RequestLine {
  std::size_t method_begin = 0;
  std::size_t method_end = 0;
  std::size_t target_begin = 0;
  std::size_t target_end = 0;
  std::size_t next = 0;  // first octet after the CRLF
  std::uint8_t major = 0;
  std::uint8_t minor = 0;
};

// Scans the request-line starting at `start`, octet by octet. At most `limit` octets may precede
// its CRLF: any other octet at index `limit` or beyond is a 414, decided at that octet so it
// never depends on how much was received.
Step scan_request_line(const char* b, std::size_t n, std::size_t start, std::size_t limit,
                       RequestLine& line, ParseError& error) {
  const std::size_t max_cr = start + limit;
  const std::size_t stop = std::min(n, max_cr);
  auto too_long = [&](std::size_t i) { return i >= max_cr && b[i] != '\r'; };
  auto fail = [&](ParseError e) {
    error = e;
    return Step::error;
  };
  line.method_begin = start;

  // RFC 9112 §3: request-line = method SP request-target SP HTTP-version; RFC 9110 §9.1:
  // method = token. Exactly one SP between the parts (checklist A1, A5).
  std::size_t i = start;
  while (i < stop && is_tchar(b[i]))
    ++i;
  if (i == n) return Step::partial;
  if (too_long(i)) return fail(ParseError::request_line_too_long);
  if (b[i] != ' ' || i == start) {
    const char c = b[i];
    const bool structural = c == ' ' || c == '\r' || c == '\n';
    return fail(structural ? ParseError::invalid_request_line : ParseError::invalid_method);
  }
  line.method_end = i++;

  // RFC 9112 §3.2: the request-target holds no whitespace, CTL, DEL or octet >= 0x80; we do not
  // try to repair it (checklist A4, A9).
  line.target_begin = i;
  i = grammar::wide::find_target_end(b, i, stop);
  if (i == n) return Step::partial;
  if (too_long(i)) return fail(ParseError::request_line_too_long);
  if (b[i] != ' ' || i == line.target_begin) {
    const char c = b[i];
    // An empty target (A3), or a line ending after the target: HTTP/0.9 (A15).
    const bool structural = c == ' ' || c == '\r' || c == '\n';
    return fail(structural ? ParseError::invalid_request_line : ParseError::invalid_target);
  }
  line.target_end = i++;

  // RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (checklist B1).
  constexpr char pattern[] = "HTTP/0.0";
  const std::size_t version_begin = i;
  if (i + 8 <= stop) {
    // All eight octets are here and inside the limit: one comparison for "HTTP/?.?".
    std::uint64_t word;
    std::uint64_t expected;
    std::uint64_t mask;
    std::memcpy(&word, b + i, 8);
    std::memcpy(&expected, "HTTP/\0.\0", 8);
    std::memcpy(&mask, "\xff\xff\xff\xff\xff\0\xff\0", 8);
    if ((word & mask) == expected && is_digit(b[i + 5]) && is_digit(b[i + 7])) i += 8;
  }
  for (std::size_t k = i - version_begin; k < 8; ++k, ++i) {  // octet by octet otherwise
    if (i == n) return Step::partial;
    if (too_long(i)) return fail(ParseError::request_line_too_long);
    const bool ok = (k == 5 || k == 7) ? is_digit(b[i]) : b[i] == pattern[k];
    if (!ok) return fail(ParseError::invalid_version);
  }
  line.major = static_cast<std::uint8_t>(b[i - 3] - '0');
  line.minor = static_cast<std::uint8_t>(b[i - 1] - '0');
  if (i == n) return Step::partial;
  if (b[i] != '\r') {
    return fail(too_long(i) ? ParseError::request_line_too_long : ParseError::invalid_version);
  }
  // RFC 9112 §2.2: CRLF only; a bare CR is invalid and a bare LF is refused (checklist A2).
  if (i + 1 == n) return Step::partial;
  if (b[i + 1] != '\n') return fail(ParseError::invalid_request_line);
  line.next = i + 2;
  return Step::done;
}

bool method_is(std::string_view method, std::string_view upper, bool casefold) {
  if (!casefold) return method == upper;
  if (method.size() != upper.size()) return false;
  for (std::size_t i = 0; i < method.size(); ++i) {
    if (grammar::to_upper(method[i]) != upper[i]) return false;
  }
  return true;
}

// Splits an origin-form-like rest "path[?query][#fragment]". The fragment is kept, as gunicorn
// does (corpus valid/005), though RFC 9112 §3.2.1 has no fragment in a request-target.
void split_path(std::string_view rest, Request& out) {
  const std::size_t hash = rest.find('#');
  if (hash != std::string_view::npos) {
    out.fragment = rest.substr(hash + 1);
    rest = rest.substr(0, hash);
  }
  const std::size_t question = rest.find('?');
  if (question != std::string_view::npos) {
    out.query = rest.substr(question + 1);
    rest = rest.substr(0, question);
  }
  out.path = rest;
}

// RFC 9112 §3.2: which form the target takes, and its path, query and fragment.
ParseError classify_target(std::string_view target, bool casefold, Request& out) {
  // RFC 9112 §3.2.4: asterisk-form only for OPTIONS (checklist A11).
  if (target == "*") {
    if (!method_is(out.method, "OPTIONS", casefold)) return ParseError::invalid_target;
    out.path = target;
    return ParseError::none;
  }
  // RFC 9112 §3.2.3: CONNECT takes authority-form = uri-host ":" port, and nothing else does
  // (checklist A12).
  if (method_is(out.method, "CONNECT", casefold)) {
    if (!grammar::is_valid_host(target, grammar::PortRule::required)) {
      return ParseError::invalid_target;
    }
    out.path = target;
    return ParseError::none;
  }
  // RFC 9112 §3.2.1: origin-form = absolute-path [ "?" query ].
  if (target.front() == '/') {
    split_path(target, out);
    return ParseError::none;
  }
  // RFC 9112 §3.2.2: absolute-form = absolute-URI; we need scheme "://" authority, the only
  // shape an HTTP client sends (checklist A10 rejects relative targets, A13 accepts these).
  const char first = target.front();
  if (!((first >= 'a' && first <= 'z') || (first >= 'A' && first <= 'Z'))) {
    return ParseError::invalid_target;
  }
  std::size_t i = 1;
  while (i < target.size() && has(target[i], grammar::k_scheme))
    ++i;  // RFC 3986 §3.1
  if (target.substr(i, 3) != "://") return ParseError::invalid_target;
  const std::size_t authority_begin = i + 3;
  std::size_t authority_end = target.find_first_of("/?#", authority_begin);
  if (authority_end == std::string_view::npos) authority_end = target.size();
  if (!grammar::is_valid_authority(
          target.substr(authority_begin, authority_end - authority_begin))) {
    return ParseError::invalid_target;
  }
  split_path(target.substr(authority_end), out);
  // RFC 9110 §4.2.3: an empty path in an http(s) URI is equivalent to "/".
  if (out.path.empty()) out.path = "/";
  return ParseError::none;
}

// Rules on the request-line as a whole, once it is complete. Fills the request-line fields.
ParseError accept_request_line(const char* b, RequestLine& line, const ParserOptions& options,
                               Request& out) {
  // RFC 9110 §2.5 / §15.6.6: a well-formed version whose major we do not speak is a 505
  // (checklist B2); gunicorn's permit_unconventional_http_version lets any D.D through.
  if (line.major != 1 && !options.permit_unconventional_http_version) {
    return ParseError::unsupported_version;
  }
  // RFC 9110 §2.5: a higher 1.x minor is handled as the highest we implement (checklist B3).
  if (line.major == 1 && line.minor > 1) line.minor = 1;

  const std::string_view method(b + line.method_begin, line.method_end - line.method_begin);
  if (!options.permit_unconventional_http_method) {
    // gunicorn: 3 to 20 octets, no lower-case letter and no "#" (its METHOD_BADCHAR_RE).
    if (method.size() < 3 || method.size() > 20) return ParseError::invalid_method;
    for (char c : method) {
      if (c == '#' || has(c, grammar::k_lower)) return ParseError::invalid_method;
    }
  }
  out.method = method;
  out.target = std::string_view(b + line.target_begin, line.target_end - line.target_begin);
  out.version_major = line.major;
  out.version_minor = line.minor;
  return classify_target(out.target, options.casefold_http_method, out);
}

// ---------------------------------------------------------------------------------------------
// Field lines

struct Scan {
  const char* b;
  std::size_t n;
  const ParserOptions& options;
  bool peer_is_trusted;
  const EffectiveLimits& limits;
};

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

// ---------------------------------------------------------------------------------------------
// After the last line

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

// ---------------------------------------------------------------------------------------------
// Driver

std::size_t section_hard_end(std::size_t section_start, const EffectiveLimits& limits) {
  return std::min(section_start + limits.section_cap, grammar::k_max_head_bytes);
}

ParseResult fail_with(ParseError error) {
  return {ParseStatus::error, error, 0};
}

void save_resume(Request& out, std::uint8_t stage, std::size_t line_start, std::size_t scanned_to,
                 const Section* section) {
  auto& r = out.resume;
  r.stage = stage;
  r.line_start = static_cast<std::uint32_t>(line_start);
  r.scanned_to = static_cast<std::uint32_t>(scanned_to);
  r.section_start = section ? static_cast<std::uint32_t>(section->start) : 0;
  r.fields = section ? static_cast<std::uint32_t>(section->fields) : 0;
  r.field_bytes = section ? static_cast<std::uint32_t>(section->field_bytes) : 0;
}

// Continues a partial head from out.resume, looking only at octets not seen before.
// done: the head is now complete (or decided): parse it in full. partial: out.resume updated.
Step resume_scan(const Scan& scan, Request& out, ParseError& error) {
  const Request::ResumePoint r = out.resume;
  const std::size_t n = scan.n;
  if (r.stage == 1) {
    // Still in the request-line: has its LF arrived, or has the line outgrown its limit?
    const std::size_t window_end = r.line_start + scan.limits.request_line + 2;
    const std::size_t search_end = std::min(n, window_end);
    const std::size_t from = std::max<std::size_t>(r.line_start, r.scanned_to);
    if ((from >= search_end || std::memchr(scan.b + from, '\n', search_end - from) == nullptr) &&
        n < window_end) {
      out.resume.scanned_to = static_cast<std::uint32_t>(n);
      return Step::partial;
    }
    return Step::done;
  }
  Section section;
  section.start = r.section_start;
  section.hard_end = section_hard_end(section.start, scan.limits);
  section.fields = r.fields;
  section.field_bytes = r.field_bytes;
  std::size_t i = r.line_start;
  std::size_t scanned_to = r.scanned_to;
  Line line;
  while (true) {
    const Step step = scan_field_line(scan, i, scanned_to, section, line, error);
    if (step == Step::partial) {
      save_resume(out, 2, i, n, &section);
      return Step::partial;
    }
    if (step == Step::error) return Step::error;
    if (line.kind == Line::end) return Step::done;
    i = line.next;
    scanned_to = i;
  }
}

bool resume_is_plausible(const Request::ResumePoint& r, std::size_t n) {
  if (r.stage == 1) {
    return r.line_start <= 2 * k_max_leading_empty_lines && r.scanned_to <= n &&
           r.line_start <= r.scanned_to;
  }
  if (r.stage == 2) {
    return r.section_start <= r.line_start && r.line_start <= r.scanned_to && r.scanned_to <= n;
  }
  return false;
}

void reset_output(Request& out) {
  out.method = out.target = out.path = out.query = out.fragment = {};
  out.version_major = out.version_minor = 1;
  out.headers.clear();
  out.framing = BodyFraming::none;
  out.content_length = 0;
  out.keep_alive = out.expect_continue = false;
  out.head_length = 0;
}

// Parses the whole head from offset 0.
ParseResult parse_from_start(std::span<char> buffer, const Scan& scan, Request& out) {
  const char* b = scan.b;
  const std::size_t n = scan.n;
  reset_output(out);
  out.resume = {};
  if (out.headers.capacity() == 0) out.headers.reserve(32);  // once per Request, then reused

  // RFC 9112 §2.2: skip a bounded number of empty lines before the request-line (A16).
  std::size_t i = 0;
  std::size_t empty_lines = 0;
  while (i < n && b[i] == '\r') {
    if (i + 1 == n) return {};
    if (b[i + 1] != '\n') return fail_with(ParseError::invalid_request_line);
    if (++empty_lines > k_max_leading_empty_lines) {
      return fail_with(ParseError::invalid_request_line);
    }
    i += 2;
  }
  if (i == n) return {};

  RequestLine request_line;
  ParseError error = ParseError::none;
  Step step = scan_request_line(b, n, i, scan.limits.request_line, request_line, error);
  if (step == Step::partial) {
    save_resume(out, 1, i, n, nullptr);
    return {};
  }
  if (step == Step::error) return fail_with(error);
  error = accept_request_line(b, request_line, scan.options, out);
  if (error != ParseError::none) return fail_with(error);

  Section section;
  section.start = request_line.next;
  section.hard_end = section_hard_end(section.start, scan.limits);
  bool last_kept = false;
  bool folded = false;
  std::size_t at = section.start;
  Line line;
  while (true) {
    step = scan_field_line(scan, at, at, section, line, error);
    if (step == Step::partial) {
      save_resume(out, 2, at, n, &section);
      return {};
    }
    if (step == Step::error) return fail_with(error);
    if (line.kind == Line::end) {
      at = line.next;
      break;
    }
    if (line.kind == Line::field) {
      last_kept = line.keep;
      if (line.keep) out.headers.push_back(Header{line.name, line.value});
    } else if (last_kept) {
      // Stretch the value over the continuation line; unfold_value() rewrites it below.
      Header& header = out.headers.back();
      const char* value_end = b + line.next - 2;
      header.value = std::string_view(header.value.data(),
                                      static_cast<std::size_t>(value_end - header.value.data()));
      folded = true;
    }
    at = line.next;
  }

  // The head is complete: only now may the opt-in leniencies rewrite octets in place, so a
  // partial result never leaves the buffer changed.
  if (folded) {
    for (Header& header : out.headers) {
      if (header.value.find('\r') != std::string_view::npos) {
        unfold_value(buffer.data(), b, header);
      }
    }
  }
  error = analyse_fields(scan.options, out);
  if (error != ParseError::none) return fail_with(error);
  if (scan.options.casefold_http_method) {
    char* method = buffer.data() + request_line.method_begin;
    for (std::size_t k = 0; k < out.method.size(); ++k)
      method[k] = grammar::to_upper(method[k]);
  }
  out.head_length = static_cast<std::uint32_t>(at);
  return {ParseStatus::complete, ParseError::none, at};
}

}  // namespace

ParseResult parse_request(std::span<char> buffer, const ParserOptions& options,
                          bool peer_is_trusted, Request& out) {
  const EffectiveLimits limits = grammar::effective_limits(options);
  const Scan scan{buffer.data(), buffer.size(), options, peer_is_trusted, limits};
  if (out.resume.stage != 0 && resume_is_plausible(out.resume, buffer.size())) {
    ParseError error = ParseError::none;
    const Step step = resume_scan(scan, out, error);
    if (step == Step::partial) return {};
    if (step == Step::error) {
      out.resume = {};
      return fail_with(error);
    }
  }
  return parse_from_start(buffer, scan, out);
}

}  // namespace monoceros::http
