// Unit tests for parse_request: valid heads, every conformance row, limits, leniencies, prefixes.
#include <cstring>
#include <string>
#include <vector>

#include "check.hpp"
#include "http/http_test_support.hpp"

using namespace monoceros::http;
using monoceros::http::test::error_of;
using monoceros::http::test::parse_growing;
using monoceros::http::test::Parsed;
using monoceros::http::test::status_of;

namespace {

ParserOptions no_host() {
  ParserOptions o;
  o.require_host = false;
  return o;
}

// A typical browser-like request: ~500 bytes, 12 header fields.
const std::string k_browser_request =
    "GET /wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg?size=large&v=3 HTTP/1.1\r\n"
    "Host: www.kittyhell.com\r\n"
    "User-Agent: Mozilla/5.0 (Macintosh; U; Intel Mac OS X 10_6_3; ja-JP-mac; rv:1.9.2.3) "
    "Gecko/20100401 Firefox/3.6.3\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    "Accept-Language: ja,en-us;q=0.7,en;q=0.3\r\n"
    "Accept-Encoding: gzip,deflate\r\n"
    "Accept-Charset: Shift_JIS,utf-8;q=0.7,*;q=0.7\r\n"
    "Keep-Alive: 115\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: wp_ozh_wsa_visits=2; wp_ozh_wsa_visit_lasttime=xxxxxxxxxx; "
    "__utma=xxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.xxxxxxxxxx.x\r\n"
    "Cache-Control: max-age=0\r\n"
    "Referer: http://www.kittyhell.com/\r\n"
    "DNT: 1\r\n"
    "\r\n";

}  // namespace

// ---------------------------------------------------------------------------------------------
// Valid requests

TEST(parser_simple_get) {
  Parsed p("GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n");
  CHECK(p.complete());
  CHECK_EQ(p.request.method, "GET");
  CHECK_EQ(p.request.target, "/index.html");
  CHECK_EQ(p.request.path, "/index.html");
  CHECK_EQ(p.request.query, "");
  CHECK_EQ(p.request.fragment, "");
  CHECK_EQ(int(p.request.version_major), 1);
  CHECK_EQ(int(p.request.version_minor), 1);
  CHECK_EQ(p.request.headers.size(), 1u);
  CHECK_EQ(p.field(0).name, "Host");
  CHECK_EQ(p.field(0).value, "example.com");
  CHECK_EQ(p.request.framing, BodyFraming::none);
  CHECK(p.request.keep_alive);
  CHECK(!p.request.expect_continue);
  CHECK_EQ(p.result.consumed, p.bytes.size());
  CHECK_EQ(p.request.head_length, p.bytes.size());
}

TEST(parser_browser_request_fields_exact) {
  Parsed p(k_browser_request);
  CHECK(p.complete());
  CHECK_EQ(p.request.headers.size(), 12u);
  CHECK_EQ(p.request.path, "/wp-content/uploads/2010/03/hello-kitty-darth-vader-pink.jpg");
  CHECK_EQ(p.request.query, "size=large&v=3");
  CHECK_EQ(p.field(0).name, "Host");
  CHECK_EQ(p.field(11).name, "DNT");
  CHECK_EQ(p.field(11).value, "1");
  CHECK_EQ(p.header("Accept-Encoding"), "gzip,deflate");
  CHECK_EQ(p.header("Connection"), "keep-alive");
  CHECK_EQ(p.result.consumed, k_browser_request.size());
}

TEST(parser_header_names_keep_case_values_trimmed) {
  Parsed p(
      "GET / HTTP/1.1\r\nhOsT: a\r\nX-Thing:  \t padded value \t \r\nEmpty:\r\nE2: \t\r\n\r\n");
  CHECK(p.complete());
  CHECK_EQ(p.field(0).name, "hOsT");
  CHECK_EQ(p.header("X-Thing"), "padded value");
  CHECK_EQ(p.header("Empty"), "");
  CHECK_EQ(p.header("E2"), "");
  CHECK_EQ(p.request.headers.size(), 4u);
}

TEST(parser_obs_text_value_byte_exact) {
  // Checklist C10: obs-text kept byte-exact; 0x85 and 0xA0 are not whitespace.
  Parsed p(
      "GET / HTTP/1.1\r\nHost: a\r\nUser: \x85"
      "admin\xa0\r\nX: caf\xc3\xa9\r\n\r\n");
  CHECK(p.complete());
  CHECK_EQ(p.header("User"),
           "\x85"
           "admin\xa0");
  CHECK_EQ(p.header("X"), "caf\xc3\xa9");
}

TEST(parser_host_obs_text_accepted) {
  Parsed p(
      "GET / HTTP/1.1\r\nHost: \xff"
      "a\xff\r\n\r\n");
  CHECK(p.complete());
  CHECK_EQ(p.header("Host"),
           "\xff"
           "a\xff");
}

TEST(parser_special_name_characters) {
  Parsed p("GET / HTTP/1.1\r\nHost: a\r\nX.Custom|Pipe: ok\r\n!#$%&'*+-.^_`|~09azAZ: v\r\n\r\n",
           [] {
             ParserOptions o;
             o.header_map = UnderscoreHeaders::dangerous;
             return o;
           }());
  CHECK(p.complete());
  CHECK_EQ(p.header("X.Custom|Pipe"), "ok");
  CHECK_EQ(p.header("!#$%&'*+-.^_`|~09azAZ"), "v");
}

TEST(parser_duplicate_ordinary_headers_kept_in_order) {
  // Checklist C14: other duplicates reach the app (environ joins them with ",").
  Parsed p("GET / HTTP/1.0\r\nIf-Match: bazinga!\r\nIf-Match: large-sound\r\n\r\n");
  CHECK(p.complete());
  CHECK_EQ(p.header("If-Match", 0), "bazinga!");
  CHECK_EQ(p.header("If-Match", 1), "large-sound");
}

TEST(parser_query_and_fragment) {
  Parsed a("GET /forums/1/topics/2375?page=1#posts-17408 HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(a.complete());
  CHECK_EQ(a.request.path, "/forums/1/topics/2375");
  CHECK_EQ(a.request.query, "page=1");
  CHECK_EQ(a.request.fragment, "posts-17408");

  Parsed b("GET /p#frag?notquery HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK_EQ(b.request.path, "/p");
  CHECK_EQ(b.request.query, "");
  CHECK_EQ(b.request.fragment, "frag?notquery");

  Parsed c("GET /p?a?b=c HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK_EQ(c.request.query, "a?b=c");

  Parsed d("GET /with_\"quotes\"?foo=\"bar\" HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(d.complete());
  CHECK_EQ(d.request.path, "/with_\"quotes\"");

  Parsed e("GET ///keeping_slashes HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK_EQ(e.request.path, "///keeping_slashes");

  Parsed f("GET /%20k?%41 HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK_EQ(f.request.path, "/%20k");  // still percent-encoded
  CHECK_EQ(f.request.query, "%41");
}

TEST(parser_absolute_form_targets) {
  // Checklist A13 / RFC 9112 §3.2.2: authority from the target; Host is only checked.
  Parsed a("GET http://example.com/foo?q=1 HTTP/1.1\r\nHost: other\r\n\r\n");
  CHECK(a.complete());
  CHECK_EQ(a.request.target, "http://example.com/foo?q=1");
  CHECK_EQ(a.request.path, "/foo");
  CHECK_EQ(a.request.query, "q=1");

  Parsed b("GET https://example.com HTTP/1.1\r\nHost: example.com\r\n\r\n");
  CHECK(b.complete());
  CHECK_EQ(b.request.path, "/");

  Parsed c("GET http://[::1]:8080/foo HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n");
  CHECK(c.complete());
  CHECK_EQ(c.request.path, "/foo");

  Parsed d("GET http://user:pass@example.com:8080/foo?q=1#f HTTP/1.1\r\nHost: e\r\n\r\n");
  CHECK(d.complete());
  CHECK_EQ(d.request.path, "/foo");
  CHECK_EQ(d.request.query, "q=1");
  CHECK_EQ(d.request.fragment, "f");

  Parsed e("GET http://h?x HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(e.complete());
  CHECK_EQ(e.request.path, "/");
  CHECK_EQ(e.request.query, "x");

  Parsed f("GET svn+ssh://h.example/p HTTP/1.1\r\nHost: h\r\n\r\n");
  CHECK(f.complete());
  CHECK_EQ(f.request.path, "/p");
}

TEST(parser_absolute_form_rejects_bad_authority) {
  for (const char* target : {"s://]ufd/:", "http:///nohost", "http://a b/", "http://h:99999/",
                             "http://h:1:2/", "http://a@b@c/", "http://[::1/", "http://h,i/",
                             "1http://h/", "http:/h/", "http//h/", "://h/"}) {
    const std::string request = std::string("GET ") + target + " HTTP/1.1\r\nHost: h\r\n\r\n";
    // Mostly invalid_target; "a b" ends the target early and fails in the version instead.
    const ParseError e = error_of(request);
    CHECK(e != ParseError::none);
    CHECK_EQ(describe(e).status, 400);
  }
}

TEST(parser_options_asterisk_and_connect) {
  Parsed a("OPTIONS * HTTP/1.1\r\nHost: example.com\r\n\r\n");
  CHECK(a.complete());
  CHECK_EQ(a.request.path, "*");
  Parsed b("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n");
  CHECK(b.complete());
  CHECK_EQ(b.request.path, "example.com:443");
  Parsed c("CONNECT [::1]:443 HTTP/1.1\r\nHost: [::1]:443\r\n\r\n");
  CHECK(c.complete());
  CHECK_EQ(c.request.path, "[::1]:443");
  // CONNECT needs authority-form with a port.
  CHECK_EQ(error_of("CONNECT example.com HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::invalid_target);
  CHECK_EQ(error_of("CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::invalid_target);
  CHECK_EQ(error_of("CONNECT http://h:1/ HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::invalid_target);
  CHECK_EQ(error_of("CONNECT * HTTP/1.1\r\nHost: h\r\n\r\n"), ParseError::invalid_target);
}

TEST(parser_versions) {
  Parsed a("GET / HTTP/1.0\r\n\r\n");
  CHECK(a.complete());
  CHECK_EQ(int(a.request.version_minor), 0);
  CHECK(!a.request.keep_alive);
  // Checklist B3: HTTP/1.2 (and any 1.x above 1) handled as 1.1.
  Parsed b("GET / HTTP/1.2\r\nHost: a\r\n\r\n");
  CHECK(b.complete());
  CHECK_EQ(int(b.request.version_major), 1);
  CHECK_EQ(int(b.request.version_minor), 1);
  Parsed c("GET / HTTP/1.9\r\n\r\n");
  CHECK_EQ(c.error(), ParseError::missing_host);  // treated as 1.1, so Host is required
}

TEST(parser_pipelined_consumed_points_at_next) {
  const std::string two =
      "GET /first HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\n\r\n";
  Parsed p(two);
  CHECK(p.complete());
  CHECK_EQ(p.request.path, "/first");
  CHECK_EQ(p.result.consumed, two.size() / 2);
  Parsed q(std::string_view(two).substr(p.result.consumed));
  CHECK(q.complete());
  CHECK_EQ(q.request.path, "/second");
}

TEST(parser_body_framing_fields) {
  Parsed a("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello");
  CHECK(a.complete());
  CHECK_EQ(a.request.framing, BodyFraming::content_length);
  CHECK_EQ(a.request.content_length, 5u);
  CHECK_EQ(a.result.consumed, a.bytes.size() - 5);

  Parsed b("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
  CHECK_EQ(b.request.framing, BodyFraming::chunked);
  CHECK(b.request.keep_alive);

  Parsed c("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n");
  CHECK_EQ(c.request.framing, BodyFraming::content_length);
  CHECK_EQ(c.request.content_length, 0u);

  Parsed d("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
  CHECK_EQ(d.request.framing, BodyFraming::none);
}

TEST(parser_leading_empty_lines_ignored_and_bounded) {
  // Checklist A16 / RFC 9112 §2.2.
  Parsed a("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n");
  CHECK(a.complete());
  CHECK_EQ(a.request.method, "GET");
  CHECK_EQ(a.result.consumed, a.bytes.size());
  std::string eight;
  for (int i = 0; i < 8; ++i)
    eight += "\r\n";
  CHECK_EQ(status_of(eight + "GET / HTTP/1.1\r\nHost: a\r\n\r\n"), ParseStatus::complete);
  CHECK_EQ(error_of(eight + "\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
           ParseError::invalid_request_line);
  CHECK_EQ(error_of("\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"), ParseError::invalid_request_line);
  CHECK_EQ(error_of("\r\rGET / HTTP/1.1\r\nHost: a\r\n\r\n"), ParseError::invalid_request_line);
  CHECK_EQ(status_of("\r\n\r\n"), ParseStatus::partial);
  CHECK_EQ(status_of("\r"), ParseStatus::partial);
}

TEST(parser_request_reuse_keeps_capacity) {
  Request request;
  std::vector<char> bytes(k_browser_request.begin(), k_browser_request.end());
  CHECK(parse_request(bytes, ParserOptions{}, false, request).status == ParseStatus::complete);
  const Header* storage = request.headers.data();
  const std::size_t capacity = request.headers.capacity();
  for (int i = 0; i < 3; ++i) {
    CHECK(parse_request(bytes, ParserOptions{}, false, request).status == ParseStatus::complete);
  }
  CHECK(request.headers.data() == storage);
  CHECK_EQ(request.headers.capacity(), capacity);
  request.clear();
  CHECK(request.headers.empty());
  CHECK_EQ(request.headers.capacity(), capacity);
}

TEST(parser_strict_parsing_never_writes) {
  std::vector<char> bytes(k_browser_request.begin(), k_browser_request.end());
  const std::vector<char> before = bytes;
  Request request;
  CHECK(parse_request(bytes, ParserOptions{}, false, request).status == ParseStatus::complete);
  CHECK(bytes == before);
}

// ---------------------------------------------------------------------------------------------
// A. Request line

TEST(parser_row_a1_a2_line_terminators) {
  CHECK_EQ(error_of("GET /\nHTTP/1.1\r\n\r\n"), ParseError::invalid_request_line);
  CHECK_EQ(describe(error_of("GET /\nHTTP/1.1\r\n\r\n")).status, 400);
  CHECK_EQ(error_of("GET\n/\nHTTP/1.1\r\n\r\n"), ParseError::invalid_request_line);
  CHECK_EQ(error_of("GET / HTTP/1.1\nHost: a\r\n\r\n"), ParseError::invalid_version);
  CHECK_EQ(error_of("GET / HTTP/1.1\rHost: a\r\n\r\n"), ParseError::invalid_request_line);
  CHECK_EQ(error_of("GET / HTTP/1.1\n\n"), ParseError::invalid_version);
  CHECK_EQ(error_of("GET / HTTP/1.1\r\r\n"), ParseError::invalid_request_line);
}

TEST(parser_row_a3_a5_separators_and_empty_target) {
  CHECK_EQ(error_of("GET  HTTP/1.1\r\n\r\n"), ParseError::invalid_request_line);
  CHECK_EQ(error_of("GET HTTP/1.1\r\n\r\n"), ParseError::invalid_request_line);
  CHECK_EQ(error_of("GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n"), ParseError::invalid_method);
  CHECK_EQ(error_of("GET   /   HTTP/1.0\r\n\r\n"), ParseError::invalid_request_line);
  CHECK_EQ(error_of("GET /\tHTTP/1.0\r\n\r\n"), ParseError::invalid_target);
  CHECK_EQ(error_of("GET\x0b/ HTTP/1.0\r\n\r\n"), ParseError::invalid_method);
  CHECK_EQ(error_of("GET\x0c/ HTTP/1.0\r\n\r\n"), ParseError::invalid_method);
  CHECK_EQ(error_of("GET\r/ HTTP/1.0\r\n\r\n"), ParseError::invalid_request_line);
  CHECK_EQ(error_of("GET / HTTP/1.0 \r\n\r\n"), ParseError::invalid_version);
  CHECK_EQ(error_of(" GET / HTTP/1.0\r\n\r\n"), ParseError::invalid_request_line);
}

TEST(parser_row_a4_space_in_target) {
  CHECK_EQ(describe(error_of("GET /pa th HTTP/1.1\r\nHost: a\r\n\r\n")).status, 400);
  CHECK_EQ(describe(error_of("GET /a b c HTTP/1.1\r\nHost: a\r\n\r\n")).status, 400);
}

TEST(parser_row_a6_bad_method_tokens) {
  for (const char* line : {"G=\":<>(e),[T];?\" / HTTP/1.1", "GET: / HTTP/1.1", "bla:rgh / HTTP/1.1",
                           "-bl / HTTP/1.1", "GET\xc3\x9f / HTTP/1.1", "G(T / HTTP/1.1",
                           "GE@T / HTTP/1.1", "\x16\x03\x01\x02\x00 / HTTP/1.1"}) {
    const std::string request = std::string(line) + "\r\nHost: a\r\n\r\n";
    CHECK_EQ(error_of(request), ParseError::invalid_method);
  }
  const std::string nul("GET\0 / HTTP/1.1\r\n\r\n", 20);
  CHECK_EQ(error_of(nul), ParseError::invalid_method);
  const std::string nul_proxy("GET\0PROXY /foo HTTP/1.1\r\n\r\n", 27);
  CHECK_EQ(error_of(nul_proxy), ParseError::invalid_method);
}

TEST(parser_row_a7_unconventional_methods) {
  // gunicorn compatibility: lower case, "#", < 3 or > 20 octets refused by default.
  CHECK_EQ(error_of("get / HTTP/1.1\r\nHost: a\r\n\r\n"), ParseError::invalid_method);
  CHECK_EQ(error_of("GE#T / HTTP/1.1\r\nHost: a\r\n\r\n"), ParseError::invalid_method);
  CHECK_EQ(error_of("GO / HTTP/1.1\r\nHost: a\r\n\r\n"), ParseError::invalid_method);
  CHECK_EQ(error_of("ABCDEFGHIJKLMNOPQRSTU / HTTP/1.1\r\nHost: a\r\n\r\n"),
           ParseError::invalid_method);
  // Valid but unknown tokens reach the app.
  CHECK_EQ(status_of("FOOBAR / HTTP/1.1\r\nHost: a\r\n\r\n"), ParseStatus::complete);
  CHECK_EQ(status_of("ABCDEFGHIJKLMNOPQRST / HTTP/1.1\r\nHost: a\r\n\r\n"), ParseStatus::complete);
  CHECK_EQ(status_of("-BLARGH /foo HTTP/1.1\r\n\r\n", no_host()), ParseStatus::complete);
  CHECK_EQ(status_of("M-SEARCH * HTTP/1.1\r\nHost: a\r\n\r\n"),
           ParseStatus::error);  // * only OPTIONS
}

TEST(parser_row_a8_long_method) {
  const std::string method(1024, 'A');
  CHECK_EQ(error_of(method + " / HTTP/1.1\r\nHost: a\r\n\r\n"), ParseError::invalid_method);
  ParserOptions lenient;
  lenient.permit_unconventional_http_method = true;
  CHECK_EQ(status_of(method + " / HTTP/1.1\r\nHost: a\r\n\r\n", lenient), ParseStatus::complete);
}

TEST(parser_row_a9_bad_target_octets) {
  const std::string nul("GET /\0test HTTP/1.1\r\nHost: a\r\n\r\n", 33);
  CHECK_EQ(error_of(nul), ParseError::invalid_target);
  CHECK_EQ(error_of("GET /\x7fhello HTTP/1.1\r\nHost: a\r\n\r\n"), ParseError::invalid_target);
  CHECK_EQ(error_of("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"), ParseError::invalid_target);
  CHECK_EQ(error_of("GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n"), ParseError::invalid_target);
  CHECK_EQ(error_of("GET /\x1f HTTP/1.1\r\nHost: a\r\n\r\n"), ParseError::invalid_target);
  CHECK_EQ(error_of("GET /\x80 HTTP/1.1\r\nHost: a\r\n\r\n"), ParseError::invalid_target);
}

TEST(parser_row_a10_a12_target_forms) {
  CHECK_EQ(error_of("GET foo/bar HTTP/1.1\r\nHost: a\r\n\r\n"), ParseError::invalid_target);
  CHECK_EQ(error_of("GET example.com:443 HTTP/1.1\r\nHost: a\r\n\r\n"), ParseError::invalid_target);
  CHECK_EQ(error_of("GET ?q HTTP/1.1\r\nHost: a\r\n\r\n"), ParseError::invalid_target);
  CHECK_EQ(error_of("GET #f HTTP/1.1\r\nHost: a\r\n\r\n"), ParseError::invalid_target);
  CHECK_EQ(error_of("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), ParseError::invalid_target);
  CHECK_EQ(error_of("POST * HTTP/1.1\r\nHost: a\r\n\r\n"), ParseError::invalid_target);
  CHECK_EQ(error_of("OPTIONS ** HTTP/1.1\r\nHost: a\r\n\r\n"), ParseError::invalid_target);
  CHECK_EQ(status_of("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), ParseStatus::complete);
  CHECK_EQ(status_of("OPTIONS /x HTTP/1.1\r\nHost: a\r\n\r\n"), ParseStatus::complete);
}

TEST(parser_row_a14_request_line_limit) {
  // Default limit_request_line = 4094 octets before the CRLF; one more is a 414.
  const std::string prefix = "GET /";
  const std::string suffix = " HTTP/1.1";
  const std::string fits(4094 - prefix.size() - suffix.size(), 'a');
  CHECK_EQ(status_of(prefix + fits + suffix + "\r\nHost: a\r\n\r\n"), ParseStatus::complete);
  CHECK_EQ(error_of(prefix + fits + "a" + suffix + "\r\nHost: a\r\n\r\n"),
           ParseError::request_line_too_long);
  CHECK_EQ(describe(ParseError::request_line_too_long).status, 414);
  // Fails before the CRLF arrives: no need to wait for the end of an endless line.
  CHECK_EQ(error_of(prefix + std::string(5000, 'a')), ParseError::request_line_too_long);
  // The limit is decided at the octet that crosses it, before the method's length is known.
  CHECK_EQ(error_of(std::string(5000, 'A')), ParseError::request_line_too_long);
  CHECK_EQ(error_of(std::string(50, 'A') + " / HTTP/1.1\r\n"), ParseError::invalid_method);
  ParserOptions lenient;
  lenient.permit_unconventional_http_method = true;
  CHECK_EQ(error_of(std::string(5000, 'A'), lenient), ParseError::request_line_too_long);
  // Exactly at the limit, still partial (the next octet may be the CR).
  CHECK_EQ(status_of(prefix + fits + suffix), ParseStatus::partial);
  CHECK_EQ(status_of(prefix + fits + suffix + "\r"), ParseStatus::partial);
  CHECK_EQ(error_of(prefix + fits + suffix + "1"), ParseError::request_line_too_long);
}

TEST(parser_row_a15_http09) {
  CHECK_EQ(error_of("GET /\r\n"), ParseError::invalid_request_line);
  CHECK_EQ(error_of("GET /\r\n\r\n"), ParseError::invalid_request_line);
  CHECK_EQ(error_of("GET / \r\n\r\n"), ParseError::invalid_version);
}

TEST(parser_row_a17_garbage) {
  CHECK_EQ(describe(error_of("   \r\n\r\n")).status, 400);
  CHECK_EQ(describe(error_of("\t\r\n\r\n")).status, 400);
  const std::string hello("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11);
  CHECK_EQ(describe(error_of(hello)).status, 400);
  // The HTTP/2 preface without h2c: 505 (a version we do not speak).
  CHECK_EQ(error_of("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), ParseError::unsupported_version);
  std::string binary;
  for (int i = 0; i < 256; ++i)
    binary.push_back(static_cast<char>(255 - i));
  CHECK_EQ(describe(error_of(binary)).status, 400);
}

// ---------------------------------------------------------------------------------------------
// B. HTTP version

TEST(parser_row_b1_malformed_versions) {
  for (const char* version :
       {"HTTP/1.32", "HTTP/01.1", "HTTP/1.01", "HTTP/1", "http/1.1", "HTTP/ 1.1", "HTTP/\r\r1.1",
        "HTTP/111", "HTTP/1111111111.1", "HTTP/4294967295.255", "FTP/1.1", "ICE/1.0", "HTTP/0.99",
        "HTTP/1.", "HTTP/.1", "HTTP/a.b", "HTTP/1,1", "HTTPS/1.1"}) {
    const std::string request = std::string("GET / ") + version + "\r\nHost: a\r\n\r\n";
    CHECK_EQ(error_of(request), ParseError::invalid_version);
  }
}

TEST(parser_row_b2_unsupported_versions) {
  CHECK_EQ(error_of("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), ParseError::unsupported_version);
  CHECK_EQ(error_of("GET / HTTP/3.0\r\nHost: a\r\n\r\n"), ParseError::unsupported_version);
  CHECK_EQ(error_of("GET / HTTP/0.9\r\n\r\n"), ParseError::unsupported_version);
  CHECK_EQ(describe(ParseError::unsupported_version).status, 505);
  ParserOptions lenient;
  lenient.permit_unconventional_http_version = true;
  Parsed p("GET / HTTP/2.0\r\nHost: a\r\n\r\n", lenient);
  CHECK(p.complete());
  CHECK_EQ(int(p.request.version_major), 2);
  Parsed q("GET / HTTP/0.9\r\n\r\n", lenient);
  CHECK(q.complete());
  CHECK(!q.request.keep_alive);
}

// ---------------------------------------------------------------------------------------------
// C. Field syntax

TEST(parser_row_c1_obs_fold_refused_by_default) {
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nLong: one\r\n two\r\nHost: a\r\n\r\n"),
           ParseError::obsolete_folding);
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n"),
           ParseError::obsolete_folding);
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n\tz\r\n\r\n"),
           ParseError::obsolete_folding);
}

TEST(parser_row_c2_space_before_colon) {
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 3\r\n\r\nxyz"),
           ParseError::invalid_header_name);
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding\t: chunked\r\n\r\n"),
           ParseError::invalid_header_name);
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), ParseError::invalid_header_name);
}

TEST(parser_row_c3_whitespace_before_first_field) {
  CHECK_EQ(error_of("GET / HTTP/1.1\r\n\tContent-Length: 1\r\nHost: a\r\n\r\nx"),
           ParseError::invalid_header);
  CHECK_EQ(error_of("GET / HTTP/1.1\r\n \r\n\r\n"), ParseError::invalid_header);
  ParserOptions fold;
  fold.permit_obsolete_folding = true;
  CHECK_EQ(error_of("GET / HTTP/1.1\r\n Host: a\r\n\r\n", fold), ParseError::invalid_header);
}

TEST(parser_row_c4_empty_name) {
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\n: ignored\r\n\r\n"), ParseError::invalid_header);
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\n:\r\n\r\n"), ParseError::invalid_header);
}

TEST(parser_row_c5_no_colon) {
  CHECK_EQ(describe(error_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length 10\r\n\r\n")).status,
           400);
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"), ParseError::invalid_header);
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nTransfer-\r\nEncoding: chunked\r\n\r\n"),
           ParseError::invalid_header);
}

TEST(parser_row_c6_bad_name_octets) {
  for (std::string name : {"ba\0z",
                           "a b",
                           "a\"b",
                           "a(b",
                           "a)b",
                           "a,b",
                           "a/b",
                           "a;b",
                           "a<b",
                           "a=b",
                           "a>b",
                           "a?b",
                           "a@b",
                           "a[b",
                           "a\\b",
                           "a]b",
                           "a{b",
                           "a}b",
                           "a\x7f"
                           "b",
                           "\xef"
                           "foo",
                           "Content-Length\x85",
                           "a\x01"
                           "b"}) {
    if (name == "ba") name = std::string("ba\0z", 4);  // the literal stops at NUL
    const std::string request = "GET / HTTP/1.1\r\nHost: a\r\n" + name + ": v\r\n\r\n";
    CHECK_EQ(error_of(request), ParseError::invalid_header_name);
  }
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Length\xc3\x9f: 3\r\n\r\n"),
           ParseError::invalid_header_name);
}

TEST(parser_row_c7_c8_bad_value_octets) {
  const std::string base = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
  CHECK_EQ(error_of(base + std::string("v\0\ralue", 7) + "\r\n\r\n"), ParseError::invalid_header);
  CHECK_EQ(error_of(base + "va\rlue\r\n\r\n"), ParseError::invalid_header);
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nUseless:\n\nGET / HTTP/1.1\r\n\r\n"),
           ParseError::invalid_header);
  for (int c = 0; c < 0x20; ++c) {
    if (c == '\t') continue;
    std::string request = base + "abc";
    request.push_back(static_cast<char>(c));
    request += "def\r\n\r\n";
    CHECK_EQ(error_of(request), ParseError::invalid_header);
  }
  CHECK_EQ(error_of(base + "abc\x7f\r\n\r\n"), ParseError::invalid_header);
  CHECK_EQ(error_of(base + "plain\x07injected\r\n\r\n"), ParseError::invalid_header);
  // A long value with the bad octet far from the start (exercises the 8-octet fast path).
  CHECK_EQ(error_of(base + std::string(37, 'x') + "\x1b" + std::string(40, 'y') + "\r\n\r\n"),
           ParseError::invalid_header);
  CHECK_EQ(status_of(base + std::string(37, 'x') + "\t" + std::string(40, 'y') + "\r\n\r\n"),
           ParseStatus::complete);
}

TEST(parser_row_c9_bare_lf_between_fields) {
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n"), ParseError::invalid_header);
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\n\n"), ParseError::invalid_header);
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\n\n"), ParseError::invalid_header);
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\n\rX"), ParseError::invalid_header);
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: x\r\nNewline: a\nContent-Length: 26\r\n"
                    "GET / HTTP/1.1\nHost: x\r\n\r\n"),
           ParseError::invalid_header);
}

TEST(parser_row_c11_underscore_names) {
  const std::string request =
      "GET /x HTTP/1.0\r\nTransfer_Encoding: tricked\r\nContent-Length: 7\r\n"
      "Content_Length: -1E23\r\n\r\ntricked";
  Parsed dropped(request);
  CHECK(dropped.complete());
  CHECK_EQ(dropped.request.headers.size(), 1u);
  CHECK_EQ(dropped.field(0).name, "Content-Length");
  CHECK_EQ(dropped.request.content_length, 7u);

  ParserOptions refuse;
  refuse.header_map = UnderscoreHeaders::refuse;
  CHECK_EQ(error_of(request, refuse), ParseError::invalid_underscore_header);

  ParserOptions dangerous;
  dangerous.header_map = UnderscoreHeaders::dangerous;
  Parsed kept(request, dangerous);
  CHECK(kept.complete());
  CHECK_EQ(kept.request.headers.size(), 3u);
  CHECK_EQ(kept.header("Content_Length"), "-1E23");
  // Underscore names never frame the message, even when kept.
  CHECK_EQ(kept.request.framing, BodyFraming::content_length);
  CHECK_EQ(kept.request.content_length, 7u);
  Parsed te(
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer_Encoding: chunked\r\nContent-Length: 2\r\n\r\nok",
      dangerous);
  CHECK(te.complete());
  CHECK_EQ(te.request.framing, BodyFraming::content_length);
}

TEST(parser_underscore_forwarder_headers) {
  const std::string request =
      "GET / HTTP/1.1\r\nHost: a\r\nSCRIPT_NAME: /app\r\nPath_Info: /x\r\nX_Other: 1\r\n\r\n";
  // Untrusted peer: the default drop policy applies to all of them.
  Parsed untrusted(request);
  CHECK_EQ(untrusted.request.headers.size(), 1u);
  // Trusted peer: the listed names survive (case-insensitively), the rest are dropped.
  Parsed trusted(request, ParserOptions{}, true);
  CHECK_EQ(trusted.request.headers.size(), 3u);
  CHECK_EQ(trusted.header("SCRIPT_NAME"), "/app");
  CHECK_EQ(trusted.header("Path_Info"), "/x");
  CHECK_EQ(trusted.header("X_Other"), "<absent>");
  ParserOptions all;
  all.forwarder_headers_all = true;
  Parsed everything(request, all, true);
  CHECK_EQ(everything.request.headers.size(), 4u);
  // refuse still refuses names that are not forwarded.
  ParserOptions refuse;
  refuse.header_map = UnderscoreHeaders::refuse;
  CHECK_EQ(error_of(request, refuse, true), ParseError::invalid_underscore_header);
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nSCRIPT_NAME: /a\r\n\r\n", refuse, true),
           ParseError::none);
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nSCRIPT_NAME: /a\r\n\r\n", refuse, false),
           ParseError::invalid_underscore_header);
}

TEST(parser_row_c12_limits_default) {
  // limit_request_fields = 100: 100 fields pass, 101 are a 431.
  std::string fields;
  for (int i = 0; i < 99; ++i)
    fields += "X-" + std::to_string(i) + ": v\r\n";
  CHECK_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\n" + fields + "\r\n"), ParseStatus::complete);
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n" + fields + "\r\n"),
           ParseError::too_many_headers);
  // Dropped underscore fields still count.
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nX_Y: 1\r\n" + fields + "\r\n"),
           ParseError::too_many_headers);
  // limit_request_field_size = 8190 octets per field line including CRLF.
  const std::string name = "X: ";
  const std::string value(8190 - 2 - name.size(), 'v');
  CHECK_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\n" + name + value + "\r\n\r\n"),
           ParseStatus::complete);
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\n" + name + value + "v\r\n\r\n"),
           ParseError::header_too_large);
  CHECK_EQ(describe(ParseError::header_too_large).status, 431);
  CHECK_EQ(describe(ParseError::too_many_headers).status, 431);
  // Over-long field fails before its CRLF.
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\n" + name + std::string(9000, 'v')),
           ParseError::header_too_large);
}

TEST(parser_limits_from_options_and_clamping) {
  ParserOptions o;
  o.limit_request_fields = 2;
  CHECK_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nB: 1\r\n\r\n", o), ParseStatus::complete);
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nB: 1\r\nC: 2\r\n\r\n", o),
           ParseError::too_many_headers);

  o = {};
  o.limit_request_field_size = 10;  // "Accept: */*" + CRLF is 13
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n", o),
           ParseError::header_too_large);
  CHECK_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nAcc: */*\r\n\r\n", o), ParseStatus::complete);

  // 0 means the default 8190 (gunicorn's code, not its docs).
  o = {};
  o.limit_request_field_size = 0;
  CHECK_EQ(error_of("GET / HTTP/1.0\r\nX: " + std::string(8190, 'y') + "\r\n\r\n", o),
           ParseError::header_too_large);
  CHECK_EQ(status_of("GET / HTTP/1.0\r\nX: " + std::string(8185, 'y') + "\r\n\r\n", o),
           ParseStatus::complete);
  o.limit_request_field_size = 8210;
  CHECK_EQ(status_of("GET / HTTP/1.0\r\nX: " + std::string(8200, 'y') + "\r\n\r\n", o),
           ParseStatus::complete);

  // limit_request_fields 0 or above 32768 -> 32768.
  std::string many;
  for (int i = 0; i < 200; ++i)
    many += "F: v\r\n";
  o = {};
  o.limit_request_fields = 0;
  CHECK_EQ(status_of("GET / HTTP/1.0\r\n" + many + "\r\n", o), ParseStatus::complete);
  o.limit_request_fields = 1'000'000;
  CHECK_EQ(status_of("GET / HTTP/1.0\r\n" + many + "\r\n", o), ParseStatus::complete);

  // limit_request_line: >= 8190, 0 and "negative" (a huge size_t) all mean 8190.
  const std::string line_8190 = "GET /" + std::string(8190 - 14, 'a') + " HTTP/1.0";
  CHECK_EQ(line_8190.size(), 8190u);
  for (std::size_t limit :
       {std::size_t{8190}, std::size_t{8200}, std::size_t{0}, static_cast<std::size_t>(-1)}) {
    o = {};
    o.limit_request_line = limit;
    CHECK_EQ(status_of(line_8190 + "\r\n\r\n", o), ParseStatus::complete);
    const std::string line_8191 = "GET /a" + line_8190.substr(5);
    CHECK_EQ(error_of(line_8191 + "\r\n\r\n", o), ParseError::request_line_too_long);
  }
  o = {};
  o.limit_request_line = 20;
  CHECK_EQ(status_of("GET /12345 HTTP/1.0\r\n\r\n", o), ParseStatus::complete);   // 19 octets
  CHECK_EQ(status_of("GET /123456 HTTP/1.0\r\n\r\n", o), ParseStatus::complete);  // 20
  CHECK_EQ(error_of("GET /1234567 HTTP/1.0\r\n\r\n", o), ParseError::request_line_too_long);
}

TEST(parser_header_section_cap) {
  // fields * (field_size + 2) + 4: with 2 fields of 10 octets the section may hold 28 octets.
  ParserOptions o;
  o.limit_request_fields = 2;
  o.limit_request_field_size = 10;
  // Two 10-octet fields plus the final CRLF: 22 octets, fine.
  CHECK_EQ(status_of("GET / HTTP/1.0\r\nA: 34567\r\nB: 34567\r\n\r\n", o), ParseStatus::complete);
  CHECK_EQ(error_of("GET / HTTP/1.0\r\nA: 345678\r\n\r\n", o), ParseError::header_too_large);
  // With obs-fold the field lines can add up beyond the per-field count: the cap still holds.
  o.permit_obsolete_folding = true;
  o.limit_request_field_size = 100;
  o.limit_request_fields = 1;  // cap = 1 * 102 + 4 = 106
  std::string folded = "GET / HTTP/1.0\r\nA: x\r\n";
  for (int i = 0; i < 20; ++i)
    folded += " 1234\r\n";  // 7 octets each
  CHECK_EQ(error_of(folded + "\r\n", o), ParseError::header_too_large);
}

TEST(parser_row_c13_duplicate_singletons) {
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"), ParseError::invalid_host);
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: localhost\r\nHost: evil.example.com\r\n\r\n"),
           ParseError::invalid_host);
  CHECK_EQ(error_of("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n"), ParseError::invalid_host);
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
                    "Content-Type: text/html\r\n\r\n"),
           ParseError::duplicate_header);
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\ncontent-type: a\r\nCONTENT-TYPE: a\r\n\r\n"),
           ParseError::duplicate_header);
}

// ---------------------------------------------------------------------------------------------
// D. Content-Length

TEST(parser_row_d_content_length) {
  const std::string head = "POST / HTTP/1.1\r\nHost: a\r\n";
  auto cl_error = [&](const std::string& fields) { return error_of(head + fields + "\r\n"); };
  // D1, D2, D3: duplicates and lists, equal or not.
  CHECK_EQ(cl_error("Content-Length: 1\r\nContent-Length: 0\r\n"),
           ParseError::invalid_content_length);
  CHECK_EQ(cl_error("Content-Length: 0\r\nContent-Length: 1\r\n"),
           ParseError::invalid_content_length);
  CHECK_EQ(cl_error("Content-Length: 5\r\nContent-Length: 5\r\n"),
           ParseError::invalid_content_length);
  CHECK_EQ(cl_error("Content-Length: 5, 5\r\n"), ParseError::invalid_content_length);
  CHECK_EQ(cl_error("Content-Length: 5, 10\r\n"), ParseError::invalid_content_length);
  // D4, D8: anything but DIGITs.
  for (const char* value : {"+1",       "-1",  "-0",  "0x10", "0o5",     "1_0",         "+1_0",
                            "0_1",      "1Z",  "1 0", "3 1",  "bla-bla", "-1E23",       "\xc2\xb2",
                            "\xd9\xa3", "-48", "1.0", "1e3",  " 1\x0b",  "\xef\xbc\x91"}) {
    CHECK_EQ(cl_error(std::string("Content-Length: ") + value + "\r\n"),
             std::string_view(value).find('\x0b') != std::string_view::npos
                 ? ParseError::invalid_header  // a CTL: refused as a field value first
                 : ParseError::invalid_content_length);
  }
  // D5: empty, alone or before a real one.
  CHECK_EQ(cl_error("Content-Length:\r\n"), ParseError::invalid_content_length);
  CHECK_EQ(cl_error("Content-Length: \r\nContent-Length: 5\r\n"),
           ParseError::invalid_content_length);
  // D6: leading zeros are decimal.
  for (auto [value, expect] : {std::pair{"005", 5u}, std::pair{"010", 10u}, std::pair{"0200", 200u},
                               std::pair{"0", 0u}, std::pair{"0000000000000000000", 0u}}) {
    Parsed p(head + "Content-Length: " + value + "\r\n\r\n");
    CHECK(p.complete());
    CHECK_EQ(p.request.content_length, std::uint64_t{expect});
  }
  // D7: overflow, 20 digits, above INT64_MAX.
  CHECK_EQ(cl_error("Content-Length: 99999999999999999999\r\n"),
           ParseError::invalid_content_length);
  CHECK_EQ(cl_error("Content-Length: 9223372036854775808\r\n"), ParseError::invalid_content_length);
  Parsed max(head + "Content-Length: 9223372036854775807\r\n\r\n");
  CHECK(max.complete());
  CHECK_EQ(max.request.content_length, std::uint64_t{9223372036854775807ULL});
  // OWS around the value is not part of it.
  Parsed ows(head + "Content-Length: \t 12 \t\r\n\r\n");
  CHECK_EQ(ows.request.content_length, 12u);
  // Case-insensitive name.
  Parsed lower(head + "conTENT-Length: 5\r\n\r\nHELLO");
  CHECK_EQ(lower.request.content_length, 5u);
}

TEST(parser_row_d9_cl_with_te) {
  const std::string head = "POST / HTTP/1.1\r\nHost: a\r\n";
  for (const char* te :
       {"chunked", "identity", "gzip, chunked", "xchunked", "\tchunked", "chunked, chunked", ""}) {
    const std::string request = head + "Content-Length: 3\r\nTransfer-Encoding: " + te + "\r\n\r\n";
    CHECK_EQ(error_of(request), ParseError::conflicting_framing);
    const std::string reversed =
        head + "Transfer-Encoding: " + te + "\r\nContent-Length: 3\r\n\r\n";
    CHECK_EQ(error_of(reversed), ParseError::conflicting_framing);
  }
  CHECK_EQ(describe(ParseError::conflicting_framing).status, 400);
}

// ---------------------------------------------------------------------------------------------
// E. Transfer-Encoding

TEST(parser_row_e_transfer_encoding) {
  const std::string head11 = "POST / HTTP/1.1\r\nHost: a\r\n";
  auto te = [&](const std::string& fields) { return error_of(head11 + fields + "\r\n"); };
  // E1: HTTP/1.0 with chunked (with or without CL).
  CHECK_EQ(error_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
           ParseError::invalid_transfer_encoding);
  CHECK_EQ(
      describe(
          error_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n"))
          .status,
      400);
  // E2: chunked not last.
  CHECK_EQ(te("Transfer-Encoding: chunked, gzip\r\n"), ParseError::invalid_transfer_encoding);
  CHECK_EQ(te("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"),
           ParseError::invalid_transfer_encoding);
  CHECK_EQ(te("Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n"),
           ParseError::invalid_transfer_encoding);
  CHECK_EQ(te("Transfer-Encoding: chunked, blegh\r\n"), ParseError::invalid_transfer_encoding);
  // E3: chunked twice.
  CHECK_EQ(te("Transfer-Encoding: chunked, chunked\r\n"), ParseError::invalid_transfer_encoding);
  CHECK_EQ(te("Transfer-Encoding: identity, chunked, identity, chunked\r\n"),
           ParseError::invalid_transfer_encoding);
  CHECK_EQ(te("Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"),
           ParseError::invalid_transfer_encoding);
  // E4: unknown codings, and known ones that cannot frame the body: 501.
  for (const char* value : {"xchunked", "chunkedchunked", "blegh", "identity", "gzip", "deflate",
                            "x-gzip", "gzip, identity", "blegh, chunked"}) {
    CHECK_EQ(te(std::string("Transfer-Encoding: ") + value + "\r\n"),
             ParseError::unsupported_transfer_coding);
  }
  CHECK_EQ(describe(ParseError::unsupported_transfer_coding).status, 501);
  // E5: decorations other than SP/HTAB OWS.
  CHECK_EQ(te("Transfer-Encoding: \x0b"
              "chunked\r\n"),
           ParseError::invalid_header);
  CHECK_EQ(te("Transfer-Encoding: \x0c"
              "chunked\r\n"),
           ParseError::invalid_header);
  CHECK_EQ(te(std::string("Transfer-Encoding: \0chunked\r\n", 29)), ParseError::invalid_header);
  CHECK_EQ(te("Transfer-Encoding: \xa0"
              "chunked\xa0\r\n"),
           ParseError::invalid_transfer_encoding);
  CHECK_EQ(te("Transfer-Encoding: \x85"
              "chunked\r\n"),
           ParseError::invalid_transfer_encoding);
  CHECK_EQ(te("Transfer-Encoding: \xff"
              "chunked\xff\r\n"),
           ParseError::invalid_transfer_encoding);
  CHECK_EQ(te("Transfer-Encoding: chunked \r\n"), ParseError::none);
  CHECK_EQ(te("Transfer-Encoding: \tchunked\t\r\n"), ParseError::none);
  // E6: empty list elements are ignored (RFC 9110 §5.6.1), never "unknown -> use CL".
  CHECK_EQ(te("Transfer-Encoding: ,chunked\r\n"), ParseError::none);
  CHECK_EQ(te("Transfer-Encoding: , chunked\r\n"), ParseError::none);
  CHECK_EQ(te("Transfer-Encoding: chunked,\r\n"), ParseError::none);
  CHECK_EQ(te("Transfer-Encoding: ,\r\n"), ParseError::invalid_transfer_encoding);
  // E7: case-insensitive names.
  CHECK_EQ(te("Transfer-Encoding: Chunked\r\n"), ParseError::none);
  CHECK_EQ(te("Transfer-Encoding: CHUNKED\r\n"), ParseError::none);
  CHECK_EQ(te("transfer-encoding: chunked\r\n"), ParseError::none);
  // E8: parameters on chunked.
  CHECK_EQ(te("Transfer-Encoding: chunked;ext=val\r\n"), ParseError::invalid_transfer_encoding);
  CHECK_EQ(te("Transfer-Encoding: chunked ; q=1\r\n"), ParseError::invalid_transfer_encoding);
  // E9: empty value.
  CHECK_EQ(te("Transfer-Encoding:\r\n"), ParseError::invalid_transfer_encoding);
  CHECK_EQ(te("Transfer-Encoding:   \r\n"), ParseError::invalid_transfer_encoding);
  // E10: a compression coding before chunked would reach the app still coded: 501.
  for (const char* fields :
       {"Transfer-Encoding: gzip, chunked\r\n", "Transfer-Encoding: gzip,chunked\r\n",
        "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
        "Transfer-Encoding: deflate, compress, chunked\r\n"}) {
    CHECK_EQ(te(fields), ParseError::unsupported_transfer_coding);
  }
  // identity before chunked is a no-op (gunicorn).
  Parsed id(head11 + "Transfer-Encoding: identity, chunked\r\n\r\n");
  CHECK(id.complete());
  CHECK_EQ(id.request.framing, BodyFraming::chunked);
  Parsed id2(head11 + "Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n\r\n");
  CHECK_EQ(id2.request.framing, BodyFraming::chunked);
}

// ---------------------------------------------------------------------------------------------
// G. Host

TEST(parser_row_g1_g3_host_presence) {
  CHECK_EQ(error_of("GET / HTTP/1.1\r\n\r\n"), ParseError::missing_host);
  CHECK_EQ(error_of("GET http://a/ HTTP/1.1\r\n\r\n"), ParseError::missing_host);
  CHECK_EQ(status_of("GET / HTTP/1.1\r\n\r\n", no_host()), ParseStatus::complete);
  CHECK_EQ(status_of("GET / HTTP/1.0\r\n\r\n"), ParseStatus::complete);  // G3
  CHECK_EQ(describe(ParseError::missing_host).status, 400);
}

TEST(parser_row_g2_host_syntax) {
  for (const char* host : {"a, b",
                           "a,b",
                           "",
                           "user@h",
                           "h/path",
                           "h:99999",
                           "h:1:2",
                           "..x",
                           ".x",
                           "a..b",
                           "[ab::e\\f98]",
                           "h:",
                           "[::1",
                           "[::1]x",
                           "[::1]:",
                           "h?q",
                           "h#f",
                           "h h",
                           "[v1.x]",
                           "[1:2:3:4:5:6:7:8:9]",
                           "[1::2::3]",
                           "[12345::1]",
                           "h:-1",
                           "h:+80",
                           "%zz",
                           "%4"}) {
    const std::string request = std::string("GET / HTTP/1.1\r\nHost: ") + host + "\r\n\r\n";
    CHECK_EQ(error_of(request), ParseError::invalid_host);
  }
  for (const char* host :
       {"a", "example.com", "example.com.", "0.0.0.0=5000", "0.0.0.0:5000", "h:0", "h:65535",
        "[::1]", "[::1]:8080", "[2001:db8::1]", "[::ffff:1.2.3.4]:80", "[1:2:3:4:5:6:7:8]",
        "xn--caf-dma.example", "a_b-c~d", "%41bc", "h:00080", "127.0.0.1", "!$&'()*+;="}) {
    const std::string request = std::string("GET / HTTP/1.1\r\nHost: ") + host + "\r\n\r\n";
    CHECK_EQ(error_of(request), ParseError::none);
  }
}

// ---------------------------------------------------------------------------------------------
// Keep-alive and Expect

TEST(parser_keep_alive_rules) {
  auto keep = [](const std::string& request) {
    Parsed p(request);
    CHECK(p.complete());
    return p.request.keep_alive;
  };
  CHECK(keep("GET / HTTP/1.1\r\nHost: a\r\n\r\n"));
  CHECK(!keep("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"));
  CHECK(!keep("GET / HTTP/1.1\r\nHost: a\r\nConnection: Close\r\n\r\n"));
  CHECK(!keep("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n"));
  CHECK(!keep("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nConnection: close\r\n\r\n"));
  CHECK(keep("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n"));
  CHECK(keep("GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n"));
  CHECK(!keep("GET / HTTP/1.0\r\n\r\n"));
  CHECK(keep("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
  CHECK(keep("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
  CHECK(keep("GET / HTTP/1.0\r\nConnection: TE, keep-alive\r\n\r\n"));
  // Only the first Connection field can grant keep-alive to HTTP/1.0 (gunicorn).
  CHECK(!keep("GET / HTTP/1.0\r\nConnection: TE\r\nConnection: keep-alive\r\n\r\n"));
  CHECK(!keep("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n"));
  CHECK(!keep("GET / HTTP/1.0\r\nConnection: keep-alived\r\n\r\n"));
}

TEST(parser_expect_rules) {
  Parsed a("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n");
  CHECK(a.complete());
  CHECK(a.request.expect_continue);
  Parsed b("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\n\r\n");
  CHECK(b.request.expect_continue);
  CHECK_EQ(error_of("POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n"),
           ParseError::expectation_failed);
  CHECK_EQ(error_of("POST / HTTP/1.1\r\nHost: a\r\nExpect:\r\n\r\n"),
           ParseError::expectation_failed);
  CHECK_EQ(error_of("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue, x\r\n\r\n"),
           ParseError::expectation_failed);
  CHECK_EQ(error_of("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nExpect: x\r\n\r\n"),
           ParseError::expectation_failed);
  CHECK_EQ(describe(ParseError::expectation_failed).status, 417);
  // Ignored on HTTP/1.0.
  Parsed c("POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n");
  CHECK(c.complete());
  CHECK(!c.request.expect_continue);
  CHECK_EQ(status_of("POST / HTTP/1.0\r\nExpect: 200-ok\r\n\r\n"), ParseStatus::complete);
  Parsed d("POST / HTTP/1.1\r\nHost: a\r\n\r\n");
  CHECK(!d.request.expect_continue);
}

// ---------------------------------------------------------------------------------------------
// Leniency switches, each on and off

TEST(parser_option_strip_header_spaces) {
  const std::string request = "GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 3\r\n\r\nxyz";
  CHECK_EQ(error_of(request), ParseError::invalid_header_name);
  ParserOptions o;
  o.strip_header_spaces = true;
  Parsed p(request, o);
  CHECK(p.complete());
  CHECK_EQ(p.field(1).name, "Content-Length");
  CHECK_EQ(p.request.content_length, 3u);
  Parsed t("GET / HTTP/1.1\r\nHost: a\r\nX \t : v\r\n\r\n", o);
  CHECK_EQ(t.header("X"), "v");
  // Still no whitespace inside a name, nor before an empty name.
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nX Y: v\r\n\r\n", o),
           ParseError::invalid_header_name);
  // A line starting with SP is an obs-fold line, whatever follows.
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\n : v\r\n\r\n", o), ParseError::obsolete_folding);
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\n\t: v\r\n\r\n", o), ParseError::obsolete_folding);
}

TEST(parser_option_permit_obsolete_folding) {
  ParserOptions o;
  o.permit_obsolete_folding = true;
  Parsed p("GET / HTTP/1.1\r\nLong: one\r\n two\r\nHost: localhost\r\n\r\n", o);
  CHECK(p.complete());
  CHECK_EQ(p.header("Long"), "one two");
  CHECK_EQ(p.header("Host"), "localhost");
  Parsed q("GET / HTTP/1.1\r\nHost: a\r\nX:    first  \r\n    second\r\n\tthird \t\r\n\r\n", o);
  CHECK_EQ(q.header("X"), "first second third");
  Parsed empty_first("GET / HTTP/1.1\r\nHost: a\r\nAccept:\r\n */*\r\n\r\n", o);
  CHECK_EQ(empty_first.header("Accept"), "*/*");
  Parsed inner_empty("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n \r\n b\r\n\r\n", o);
  CHECK_EQ(inner_empty.header("X"), "a  b");  // gunicorn joins every line with one SP
  // The folded Transfer-Encoding is read after unfolding.
  Parsed te("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n chunked\r\n\r\n", o);
  CHECK(te.complete());
  CHECK_EQ(te.request.framing, BodyFraming::chunked);
  // A continuation of a dropped underscore field is dropped with it.
  Parsed dropped("GET / HTTP/1.1\r\nHost: a\r\nX_Y: a\r\n b\r\nZ: c\r\n\r\n", o);
  CHECK_EQ(dropped.request.headers.size(), 2u);
  CHECK_EQ(dropped.header("Z"), "c");
  // Continuation octets are still checked.
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\x01\r\n\r\n", o),
           ParseError::invalid_header);
  // The field size limit covers all its lines (gunicorn invalid/013).
  ParserOptions small = o;
  small.limit_request_field_size = 14;
  CHECK_EQ(error_of("GET /test HTTP/1.1\r\nAccept:\r\n */*\r\n\r\n", small),
           ParseError::header_too_large);
  small.limit_request_field_size = 15;
  CHECK_EQ(status_of("GET /test HTTP/1.0\r\nAccept:\r\n */*\r\n\r\n", small),
           ParseStatus::complete);
}

TEST(parser_option_unconventional_method_and_casefold) {
  const std::string request = "-blargh /foo HTTP/1.1\r\nHost: a\r\n\r\n";
  CHECK_EQ(error_of(request), ParseError::invalid_method);
  ParserOptions permit;
  permit.permit_unconventional_http_method = true;
  Parsed p(request, permit);
  CHECK(p.complete());
  CHECK_EQ(p.request.method, "-blargh");
  ParserOptions both = permit;
  both.casefold_http_method = true;
  Parsed q(request, both);
  CHECK(q.complete());
  CHECK_EQ(q.request.method, "-BLARGH");
  CHECK_EQ(std::string(q.bytes.data(), 7), "-BLARGH");  // rewritten in place
  // casefold alone does not make a lower-case method conventional (gunicorn checks first).
  ParserOptions fold_only;
  fold_only.casefold_http_method = true;
  CHECK_EQ(error_of("get / HTTP/1.1\r\nHost: a\r\n\r\n", fold_only), ParseError::invalid_method);
  Parsed r("options * HTTP/1.1\r\nHost: a\r\n\r\n", both);
  CHECK(r.complete());
  CHECK_EQ(r.request.method, "OPTIONS");
  // permit still requires a token.
  CHECK_EQ(error_of("G@T / HTTP/1.1\r\nHost: a\r\n\r\n", permit), ParseError::invalid_method);
  CHECK_EQ(status_of("a / HTTP/1.1\r\nHost: a\r\n\r\n", permit), ParseStatus::complete);
  CHECK_EQ(status_of("G#T / HTTP/1.1\r\nHost: a\r\n\r\n", permit), ParseStatus::complete);
}

TEST(parser_option_require_host) {
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n"), ParseError::missing_host);
  CHECK_EQ(status_of("GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", no_host()), ParseStatus::complete);
  // Syntax and duplicates are still checked when Host is optional.
  CHECK_EQ(error_of("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", no_host()), ParseError::invalid_host);
}

TEST(parser_option_header_map) {
  const std::string request = "GET / HTTP/1.1\r\nHost: a\r\nX_Y: 1\r\n\r\n";
  ParserOptions o;
  o.header_map = UnderscoreHeaders::drop;
  CHECK_EQ(Parsed(request, o).request.headers.size(), 1u);
  o.header_map = UnderscoreHeaders::refuse;
  CHECK_EQ(error_of(request, o), ParseError::invalid_underscore_header);
  o.header_map = UnderscoreHeaders::dangerous;
  CHECK_EQ(Parsed(request, o).request.headers.size(), 2u);
}

// ---------------------------------------------------------------------------------------------
// Partial input

TEST(parser_every_prefix_of_valid_requests_is_partial) {
  ParserOptions folding;
  folding.permit_obsolete_folding = true;
  const std::vector<std::pair<std::string, ParserOptions>> cases = {
      {k_browser_request, {}},
      {"\r\n\r\nPOST /a?b#c HTTP/1.1\r\nHost: [::1]:80\r\nContent-Length: 5\r\n\r\n", {}},
      {"OPTIONS * HTTP/1.0\r\n\r\n", {}},
      {"GET / HTTP/1.1\r\nHost: a\r\nX: one\r\n two\r\n\r\n", folding},
      {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity, chunked\r\n\r\n", {}},
  };
  for (const auto& [text, options] : cases) {
    for (std::size_t size = 0; size < text.size(); ++size) {
      std::vector<char> bytes(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(size));
      Request request;
      const ParseResult r = parse_request(bytes, options, false, request);
      if (r.status != ParseStatus::partial) {
        CHECK_EQ(r.status, ParseStatus::partial);
        CHECK_EQ(size, std::size_t{0});  // prints the offending prefix length
        break;
      }
      CHECK_EQ(r.consumed, 0u);
    }
    std::vector<char> whole(text.begin(), text.end());
    Request request;
    CHECK_EQ(parse_request(whole, options, false, request).status, ParseStatus::complete);
  }
}

TEST(parser_growing_buffer_same_result) {
  // One Request reused across calls (the resume hint in play), growing by 1, 2, 3, 7, 64 octets.
  ParserOptions folding;
  folding.permit_obsolete_folding = true;
  folding.casefold_http_method = true;
  const std::vector<std::pair<std::string, ParserOptions>> cases = {
      {k_browser_request, {}},
      {"GET / HTTP/1.1\r\nHost: a\r\nX: one\r\n two\r\n\tthree\r\n\r\n", folding},
      {"GET / HTTP/1.1\r\nHost: a\r\nX: y\r\n z\r\n\r\n", {}},
      {"GET / HTTP/1.1\r\nHost: a\r\nBad Name: y\r\n\r\n", {}},
      {"GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(9000, 'v') + "\r\n\r\n", {}},
      {"GET /" + std::string(5000, 'a') + " HTTP/1.1\r\n\r\n", {}},
      {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", {}},
      {"GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", {}},
      {"GET\x01 / HTTP/1.1\r\n\r\n", {}},
      {"\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", {}},
  };
  for (const auto& [text, options] : cases) {
    Parsed whole(text, options);
    for (std::size_t step : {1, 2, 3, 7, 64}) {
      Request request;
      std::vector<char> storage;
      const ParseResult r = parse_growing(text, step, options, &request, &storage);
      CHECK_EQ(r.status, whole.result.status);
      CHECK_EQ(r.error, whole.result.error);
      CHECK_EQ(r.consumed, whole.result.consumed);
      if (r.status == ParseStatus::complete) {
        CHECK_EQ(request.headers.size(), whole.request.headers.size());
        for (std::size_t i = 0; i < request.headers.size() && i < whole.request.headers.size();
             ++i) {
          CHECK_EQ(request.headers[i].value, whole.request.headers[i].value);
        }
        CHECK_EQ(request.method, whole.request.method);
      }
    }
  }
}

TEST(parser_limits_fail_before_the_end_of_head) {
  // Too many fields: refused when the 101st field line starts, long before CRLF CRLF.
  std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 100; ++i)
    many += "F: v\r\n";
  CHECK_EQ(error_of(many), ParseError::too_many_headers);
  CHECK_EQ(parse_growing(many, 5).error, ParseError::too_many_headers);
  // An endless request line: 414 after limit + 1 octets, without a CRLF.
  CHECK_EQ(parse_growing("GET /" + std::string(10000, 'x'), 100).error,
           ParseError::request_line_too_long);
  // An endless field line.
  CHECK_EQ(parse_growing("GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(10000, 'x'), 100).error,
           ParseError::header_too_large);
}

TEST(parser_resume_hint_is_only_a_hint) {
  // A Request left with a partial-head hint, then given a different buffer: still correct.
  Request request;
  std::string first = "GET / HTTP/1.1\r\nHost: a\r\nX-Long-Header: abc";
  std::vector<char> a(first.begin(), first.end());
  CHECK_EQ(parse_request(a, ParserOptions{}, false, request).status, ParseStatus::partial);
  CHECK(request.resume.stage != 0);
  std::string other = "GET /other HTTP/1.1\r\nHost: b\r\n\r\n";
  std::vector<char> b(other.begin(), other.end());
  request.clear();
  CHECK_EQ(request.resume.stage, 0);
  const ParseResult r = parse_request(b, ParserOptions{}, false, request);
  CHECK_EQ(r.status, ParseStatus::complete);
  CHECK_EQ(request.path, "/other");
  CHECK_EQ(request.resume.stage, 0);
  // Without clear(): an implausible hint (past the end) is ignored.
  std::vector<char> c(first.begin(), first.end());
  CHECK_EQ(parse_request(c, ParserOptions{}, false, request).status, ParseStatus::partial);
  std::string tiny = "GET / HTTP/1.0\r\n\r\n";
  std::vector<char> d(tiny.begin(), tiny.end());
  CHECK_EQ(parse_request(d, ParserOptions{}, false, request).status, ParseStatus::complete);
}

TEST(parser_partial_then_error_or_complete_with_pipelined_tail) {
  // Bytes after the head (a body or the next request) never affect the head's result.
  Parsed a("GET / HTTP/1.1\r\nHost: a\r\n\r\n\x01\x02garbage");
  CHECK(a.complete());
  Parsed b("GET / HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\n");
  CHECK(b.complete());
}

TEST(parser_error_table_is_total) {
  for (int i = 0; i < static_cast<int>(ParseError::count_); ++i) {
    const ErrorInfo& info = describe(static_cast<ParseError>(i));
    CHECK(info.status >= 400 && info.status < 600);
    CHECK(!info.reason.empty());
    CHECK(!info.message.empty());
  }
  CHECK_EQ(describe(ParseError::invalid_request_line).status, 400);
  CHECK_EQ(describe(ParseError::configuration_problem).status, 500);
  CHECK_EQ(describe(ParseError::count_).status, 500);
  CHECK_EQ(describe(static_cast<ParseError>(250)).status, 500);
  CHECK_EQ(describe(ParseError::request_line_too_long).reason, "URI Too Long");
  CHECK_EQ(describe(ParseError::unsupported_version).reason, "HTTP Version Not Supported");
}
