// Unit tests for the parser's building blocks: byte classes, wide scans (SSE2 and portable),
// the field-line scanner, Host syntax, Content-Length values and Transfer-Encoding lists.
#include <random>
#include <string>
#include <vector>

#include "check.hpp"
#include "http/byte_classes.hpp"
#include "http/field_line.hpp"
#include "http/framing.hpp"
#include "http/host.hpp"
#include "http/http_test_support.hpp"
#include "http/limits.hpp"
#include "http/wide_scan.hpp"

using namespace monoceros::http;
using namespace monoceros::http::grammar;

namespace {

std::size_t naive_value_special(const std::string& s, std::size_t from, std::size_t stop) {
  for (std::size_t i = from; i < stop; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) return i;
  }
  return stop;
}

std::size_t naive_target_end(const std::string& s, std::size_t from, std::size_t stop) {
  for (std::size_t i = from; i < stop; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c <= 0x20 || c >= 0x7f) return i;
  }
  return stop;
}

// Random strings biased towards the interesting octets, with one "special" octet planted.
std::vector<std::string> random_inputs() {
  std::mt19937 rng(12345);
  const std::string interesting = std::string("\t\r\n \x1f\x20\x21\x7e\x7f\x80\xff-_:aZ09", 17);
  std::vector<std::string> out;
  for (int n = 0; n < 400; ++n) {
    const std::size_t size = rng() % 70;
    std::string s;
    for (std::size_t i = 0; i < size; ++i) {
      s.push_back(rng() % 4 == 0 ? interesting[rng() % interesting.size()]
                                 : static_cast<char>('a' + rng() % 26));
    }
    out.push_back(s);
  }
  for (int c = 0; c < 256; ++c) {
    for (std::size_t at : {0, 5, 15, 16, 17, 31, 40}) {
      std::string s(48, 'x');
      s[at] = static_cast<char>(c);
      out.push_back(s);
    }
  }
  return out;
}

}  // namespace

TEST(grammar_byte_classes) {
  const std::string tchars =
      "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  for (int c = 0; c < 256; ++c) {
    const char ch = static_cast<char>(c);
    CHECK_EQ(is_tchar(ch), tchars.find(ch) != std::string::npos && c != 0);
    CHECK_EQ(is_digit(ch), c >= '0' && c <= '9');
    CHECK_EQ(is_hexdig(ch),
             (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
    CHECK_EQ(has(ch, k_field_value), c == '\t' || (c >= 0x20 && c != 0x7f));
    CHECK_EQ(has(ch, k_target), c > 0x20 && c < 0x7f);
    CHECK_EQ(is_ows(ch), c == ' ' || c == '\t');
  }
  CHECK_EQ(hex_value('a'), 10u);
  CHECK_EQ(hex_value('F'), 15u);
  CHECK_EQ(hex_value('7'), 7u);
}

TEST(grammar_iequals_and_trim) {
  CHECK(iequals("Content-Length", "content-length"));
  CHECK(iequals("CONTENT-LENGTH", "content-length"));
  CHECK(!iequals("Content_Length", "content-length"));
  CHECK(!iequals("Content-Lengthx", "content-length"));
  CHECK(iequals("Transfer-Encoding", "transfer-encoding"));
  CHECK(!iequals("Transfer-Encodinh", "transfer-encoding"));
  CHECK(!iequals("Xransfer-Encoding", "transfer-encoding"));
  CHECK(iequals("HoSt", "host"));
  CHECK(!iequals("Hosu", "host"));
  CHECK(iequals("TE", "te"));
  CHECK(!iequals("T", "te"));
  CHECK(iequals("100-Continue", "100-continue"));
  CHECK(!iequals("100-continuE ", "100-continue"));
  CHECK(!iequals("100\tcontinue", "100-continue"));
  CHECK(iequals("", ""));
  CHECK_EQ(trim_ows(" \t a b \t "), "a b");
  CHECK_EQ(trim_ows("\xa0x\x85"), "\xa0x\x85");
  CHECK_EQ(trim_ows("   "), "");
}

TEST(grammar_wide_scans_match_reference) {
  for (const std::string& s : random_inputs()) {
    for (std::size_t from = 0; from <= s.size() && from < 20; from += 3) {
      const std::size_t want_value = naive_value_special(s, from, s.size());
      const std::size_t want_target = naive_target_end(s, from, s.size());
      CHECK_EQ(wide::find_value_special_portable(s.data(), from, s.size()), want_value);
      CHECK_EQ(wide::find_target_end_portable(s.data(), from, s.size()), want_target);
      CHECK_EQ(wide::find_value_special(s.data(), from, s.size()), want_value);
      CHECK_EQ(wide::find_target_end(s.data(), from, s.size()), want_target);
#ifdef MONOCEROS_HTTP_SSE2
      CHECK_EQ(wide::find_value_special_sse2(s.data(), from, s.size()), want_value);
      CHECK_EQ(wide::find_target_end_sse2(s.data(), from, s.size()), want_target);
#endif
      // skip_plain_name may stop early, never late, and only skips letters, digits and "-".
      const std::size_t skipped = wide::skip_plain_name(s.data(), from, s.size());
      CHECK(skipped >= from && skipped <= s.size());
      for (std::size_t i = from; i < skipped; ++i) {
        CHECK(wide::is_plain_name_octet(static_cast<unsigned char>(s[i])));
      }
    }
  }
}

TEST(grammar_field_line_scanner) {
  FieldLine line;
  ParseError error = ParseError::none;
  auto scan = [&](std::string_view text, std::size_t room = 1000, bool continuation = false,
                  bool strip = false) {
    error = ParseError::none;
    return scan_field_line(text, room, continuation, strip, line, error);
  };
  CHECK(scan("Name:  value \t\r\nrest") == LineStatus::complete);
  CHECK_EQ(line.name, "Name");
  CHECK_EQ(line.value, "value");
  CHECK_EQ(line.length, 16u);
  CHECK(!line.name_has_underscore);
  CHECK(scan("Long-Header-Name-Over-Sixteen-Octets:v\r\n") == LineStatus::complete);
  CHECK_EQ(line.name, "Long-Header-Name-Over-Sixteen-Octets");
  CHECK(scan("X_Y:v\r\n") == LineStatus::complete);
  CHECK(line.name_has_underscore);
  CHECK(scan("Abcdefghijklmnopqrstuvwxyz_0123:v\r\n") == LineStatus::complete);
  CHECK(line.name_has_underscore);
  CHECK(scan("Name: a\tb\r\n") == LineStatus::complete);
  CHECK_EQ(line.value, "a\tb");
  // Partial at every prefix of a valid line; the same answer once whole.
  const std::string whole = "Accept-Language: en-US,en;q=0.9, with a long enough value\r\n";
  for (std::size_t size = 0; size < whole.size(); ++size) {
    CHECK(scan(std::string_view(whole).substr(0, size)) == LineStatus::partial);
  }
  CHECK(scan(whole) == LineStatus::complete);
  // Room: the line with its CRLF must fit.
  CHECK(scan("Name: v\r\n", 9) == LineStatus::complete);
  CHECK(scan("Name: v\r\n", 8) == LineStatus::too_large);
  CHECK(scan("Name: vv", 8) == LineStatus::too_large);  // decided before the CRLF
  CHECK(scan("Name: v", 9) == LineStatus::partial);
  CHECK(scan("N:\r\n", 1) == LineStatus::too_large);
  // Errors.
  CHECK(scan("Name : v\r\n") == LineStatus::invalid);
  CHECK_EQ(error, ParseError::invalid_header_name);
  CHECK(scan("Name : v\r\n", 1000, false, true) == LineStatus::complete);
  CHECK_EQ(line.name, "Name");
  CHECK(scan(": v\r\n") == LineStatus::invalid);
  CHECK_EQ(error, ParseError::invalid_header);
  CHECK(scan("Name v\r\n") == LineStatus::invalid);
  CHECK_EQ(error, ParseError::invalid_header_name);
  CHECK(scan("Name\r\n") == LineStatus::invalid);
  CHECK_EQ(error, ParseError::invalid_header);
  CHECK(scan("Name: v\n") == LineStatus::invalid);
  CHECK_EQ(error, ParseError::invalid_header);
  CHECK(scan("Name: v\rX") == LineStatus::invalid);
  CHECK(scan(std::string_view("Name: a\0b\r\n", 11)) == LineStatus::invalid);
  CHECK(scan("Name: a\x7f"
             "b\r\n") == LineStatus::invalid);
  // Continuation lines.
  CHECK(scan("  more text \r\n", 1000, true) == LineStatus::complete);
  CHECK_EQ(line.value, "more text");
  CHECK(line.name.empty());
  CHECK(scan(" a\x01\r\n", 1000, true) == LineStatus::invalid);
}

TEST(grammar_effective_limits) {
  ParserOptions o;
  EffectiveLimits l = effective_limits(o);
  CHECK_EQ(l.request_line, 4094u);
  CHECK_EQ(l.fields, 100u);
  CHECK_EQ(l.field_size, 8190u);
  CHECK_EQ(l.section_cap, 100u * 8192u + 4u);
  o.limit_request_line = 0;
  o.limit_request_fields = 0;
  o.limit_request_field_size = 0;
  l = effective_limits(o);
  CHECK_EQ(l.request_line, 8190u);
  CHECK_EQ(l.fields, 32768u);
  CHECK_EQ(l.field_size, 8190u);
  o.limit_request_line = 100000;
  o.limit_request_fields = 40000;
  o.limit_request_field_size = static_cast<std::size_t>(-1);
  l = effective_limits(o);
  CHECK_EQ(l.request_line, 8190u);
  CHECK_EQ(l.fields, 32768u);
  CHECK(l.section_cap <= k_max_head_bytes);  // saturated, not wrapped
}

TEST(grammar_host_syntax) {
  CHECK(is_valid_host("example.com", PortRule::optional));
  CHECK(!is_valid_host("example.com", PortRule::required));
  CHECK(is_valid_host("example.com:443", PortRule::required));
  CHECK(is_valid_host("[::1]:443", PortRule::required));
  CHECK(!is_valid_host("[::1]", PortRule::required));
  for (const char* ok : {"::", "::1", "1::", "1:2:3:4:5:6:7:8", "1::8", "fe80::1:2",
                         "::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "ABCD:ef01::"}) {
    CHECK(is_valid_ipv6(ok));
  }
  for (const char* bad :
       {"", ":", ":1", "1:", "1:::2", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7",
        "::1.2.3", "::1.2.3.256", "::01.2.3.4", "g::1", "1.2.3.4::", "1:2:3:4:5:6:7:1.2.3.4"}) {
    CHECK(!is_valid_ipv6(bad));
  }
  CHECK(is_valid_authority("user:pass@h:8080"));
  CHECK(is_valid_authority("%41b@h"));
  CHECK(!is_valid_authority("a b@h"));
  CHECK(!is_valid_authority("u@"));
}

TEST(grammar_content_length_values) {
  std::uint64_t v = 99;
  CHECK(parse_content_length_value("0", v));
  CHECK_EQ(v, 0u);
  CHECK(parse_content_length_value("007", v));
  CHECK_EQ(v, 7u);
  CHECK(parse_content_length_value("9223372036854775807", v));
  CHECK(!parse_content_length_value("9223372036854775808", v));
  CHECK(!parse_content_length_value("18446744073709551616", v));
  CHECK(!parse_content_length_value("", v));
  CHECK(!parse_content_length_value(" 1", v));
  CHECK(!parse_content_length_value("1 ", v));
  CHECK(!parse_content_length_value("0x1", v));
}

TEST(grammar_transfer_codings) {
  auto run = [](std::vector<std::string_view> fields) {
    TransferCodings t;
    for (std::string_view f : fields)
      t.add(f);
    return t;
  };
  CHECK_EQ(run({"chunked"}).finish(), ParseError::none);
  CHECK_EQ(run({"gzip, chunked"}).finish(), ParseError::unsupported_transfer_coding);
  CHECK_EQ(run({"identity, chunked"}).finish(), ParseError::none);
  CHECK_EQ(run({"gzip", "chunked"}).finish(), ParseError::unsupported_transfer_coding);
  CHECK_EQ(run({"chunked", "gzip"}).finish(), ParseError::invalid_transfer_encoding);
  CHECK_EQ(run({"chunked, chunked"}).finish(), ParseError::invalid_transfer_encoding);
  CHECK_EQ(run({"foo, chunked"}).finish(), ParseError::unsupported_transfer_coding);
  CHECK_EQ(run({"chunked, foo"}).finish(), ParseError::invalid_transfer_encoding);
  CHECK_EQ(run({"gzip"}).finish(), ParseError::unsupported_transfer_coding);
  CHECK_EQ(run({""}).finish(), ParseError::invalid_transfer_encoding);
  CHECK_EQ(run({"chunked", ""}).finish(), ParseError::invalid_transfer_encoding);
  CHECK_EQ(run({",, chunked ,"}).finish(), ParseError::none);
  CHECK_EQ(run({"chunked;q=1"}).finish(), ParseError::invalid_transfer_encoding);
  CHECK_EQ(run({"x-gzip, chunked"}).finish(), ParseError::unsupported_transfer_coding);
  // The first error sticks.
  TransferCodings t;
  CHECK_EQ(t.add("foo"), ParseError::unsupported_transfer_coding);
  CHECK_EQ(t.add("chunked"), ParseError::unsupported_transfer_coding);
}
