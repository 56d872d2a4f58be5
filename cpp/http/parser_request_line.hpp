// The request-line (RFC 9112 §3): method, request-target and HTTP-version, scanned and judged.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "http/byte_classes.hpp"
#include "http/errors.hpp"
#include "http/host.hpp"
#include "http/parser.hpp"
#include "http/parser_internal.hpp"
#include "http/request.hpp"
#include "http/wide_scan.hpp"

namespace monoceros::http::detail {

using grammar::has;
using grammar::is_digit;
using grammar::is_tchar;

struct RequestLine {
  std::size_t method_begin = 0;
  std::size_t method_end = 0;
  std::size_t target_begin = 0;
  std::size_t target_end = 0;
  std::size_t next = 0;  // first octet after the CRLF
  std::uint8_t major = 0;
  std::uint8_t minor = 0;
};

// Internal linkage, as in one file (see parser_internal.hpp).
namespace {

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

}  // namespace

}  // namespace monoceros::http::detail
