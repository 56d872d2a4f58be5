// parse_request: the strict HTTP/1.1 request-head parser (RFC 9112 §2-§6, RFC 9110 §5-§7).
//
// Shape: one pass over the head, line by line, each line validated as it is read (wide scans for
// the long runs: target and values), inside a window the limits size. Every decision depends only
// on the octets before the point where it is made, so splitting the input differently never
// changes the outcome, only when it comes. Cross-field rules (Host, Content-Length,
// Transfer-Encoding, ...) run after the last line. On a partial head, Request::resume records the
// incomplete line so the next call looks at new octets only (memchr for its LF) until it is whole.
//
// This file drives the steps and resumes partial heads; the steps themselves are in
// parser_request_line.hpp, parser_field_lines.hpp and parser_field_rules.hpp (headers, so that
// the parser stays one translation unit: see parser_internal.hpp).
#include "http/parser.hpp"

#include <algorithm>
#include <cstring>

#include "http/limits.hpp"
#include "http/parser_field_lines.hpp"
#include "http/parser_field_rules.hpp"
#include "http/parser_internal.hpp"
#include "http/parser_request_line.hpp"

namespace monoceros::http {
// Internal linkage, as in one file (see parser_internal.hpp).
namespace {

using detail::accept_request_line;
using detail::analyse_fields;
using detail::k_max_leading_empty_lines;
using detail::Line;
using detail::RequestLine;
using detail::Scan;
using detail::scan_field_line;
using detail::scan_request_line;
using detail::Section;
using detail::Step;
using detail::unfold_value;
using grammar::EffectiveLimits;

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
