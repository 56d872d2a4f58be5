// Tests for the response-side helpers: Date formatting, chunk sizes, Content-Length parsing,
// hop-by-hop names, percent-decoding and the server's own error pages.
#include "http/response_head.hpp"

#include <string>

#include "check.hpp"
#include "http/error_response.hpp"
#include "http/percent.hpp"

using namespace monoceros::http;

TEST(http_date_is_imf_fixdate) {
  char text[32];
  // 784111777 is RFC 9110's own example: Sun, 06 Nov 1994 08:49:37 GMT.
  const std::size_t length = format_http_date(784111777, text);
  CHECK_EQ(std::string(text, length), std::string("Sun, 06 Nov 1994 08:49:37 GMT"));
  CHECK_EQ(std::string(text, format_http_date(0, text)),
           std::string("Thu, 01 Jan 1970 00:00:00 GMT"));
}

TEST(http_date_cache_returns_29_characters) {
  HttpDate date;
  const std::string_view first = date.now();
  CHECK_EQ(first.size(), std::size_t{29});
  CHECK(first.substr(first.size() - 4) == " GMT");
  CHECK(date.now() == first || date.now().size() == 29);
}

TEST(chunk_size_is_lower_hex_with_crlf) {
  std::string out;
  append_chunk_size(out, 0);
  append_chunk_size(out, 10);
  append_chunk_size(out, 0x1234abcd);
  CHECK_EQ(out, std::string("0\r\na\r\n1234abcd\r\n"));
}

TEST(content_length_accepts_only_digits) {
  std::uint64_t value = 0;
  CHECK(parse_content_length("0", value) && value == 0);
  CHECK(parse_content_length("0012", value) && value == 12);
  CHECK(parse_content_length("9999999999999999999", value) && value == 9999999999999999999ull);
  for (const char* bad :
       {"", "-1", "+1", "1_0", " 1", "1 ", "0x10", "1e3", "99999999999999999999"}) {
    CHECK(!parse_content_length(bad, value));
  }
}

TEST(hop_by_hop_names_are_case_insensitive) {
  for (const char* name :
       {"Connection", "keep-alive", "TRANSFER-ENCODING", "Upgrade", "TE", "Trailers",
        "Proxy-Authenticate", "proxy-authorization", "Server", "date"}) {
    CHECK(is_hop_by_hop(name));
  }
  for (const char* name : {"Content-Length", "Content-Type", "Set-Cookie", "X-Connection", "Tee"}) {
    CHECK(!is_hop_by_hop(name));
  }
}

TEST(bodyless_statuses) {
  CHECK(status_forbids_body(100));
  CHECK(status_forbids_body(103));
  CHECK(status_forbids_body(204));
  CHECK(status_forbids_body(304));
  CHECK(!status_forbids_body(200));
  CHECK(!status_forbids_body(404));
}

TEST(percent_decoding_matches_unquote_to_bytes) {
  std::string out;
  percent_decode("/a%20b%2Fc", out);
  CHECK_EQ(out, std::string("/a b/c"));
  percent_decode("/%e2%82%ac", out);
  CHECK_EQ(out, std::string("/\xe2\x82\xac"));
  // Not two hex digits: the '%' stays, as in Python's unquote_to_bytes.
  percent_decode("/100%", out);
  CHECK_EQ(out, std::string("/100%"));
  percent_decode("/%zz%4", out);
  CHECK_EQ(out, std::string("/%zz%4"));
  percent_decode("%00", out);
  CHECK_EQ(out, std::string(1, '\0'));
}

TEST(error_response_is_complete_and_closes) {
  const std::string response = error_response(400, "Bad Request", "Invalid <header>",
                                              "Sun, 06 Nov 1994 08:49:37 GMT", "monoceros");
  CHECK(response.rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
  CHECK(response.find("\r\nConnection: close\r\n") != std::string::npos);
  CHECK(response.find("\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n") != std::string::npos);
  const std::size_t body_start = response.find("\r\n\r\n") + 4;
  const std::string length_header =
      "Content-Length: " + std::to_string(response.size() - body_start);
  CHECK(response.find(length_header) != std::string::npos);
  // The message is escaped: it may echo what the client sent.
  CHECK(response.find("Invalid &lt;header&gt;") != std::string::npos);
  CHECK(response.find("<header>") == std::string::npos);
}
