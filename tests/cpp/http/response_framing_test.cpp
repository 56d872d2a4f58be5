// Tests for ResponseFraming: the exact bytes of heads, body pieces, last chunks and error pages,
// and when a response must close its connection, for each framing rule of RFC 9110 / 9112.
#include "http/response_framing.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "check.hpp"
#include "http/error_response.hpp"

using namespace monoceros::http;

namespace {

constexpr std::string_view kDate = "Sun, 06 Nov 1994 08:49:37 GMT";
constexpr std::string_view kServer = "monoceros";

using Request = ResponseFraming::Request;
constexpr Request kKeepAlive11{.version_minor = 1, .head = false, .keep_alive = true};
constexpr Request kClose11{.version_minor = 1, .head = false, .keep_alive = false};
constexpr Request kHead11{.version_minor = 1, .head = true, .keep_alive = true};
constexpr Request kPlain10{.version_minor = 0, .head = false, .keep_alive = false};
constexpr Request kKeepAlive10{.version_minor = 0, .head = false, .keep_alive = true};

// The head the framing writes for these server-written fields and this Connection value.
std::string expected_head(std::string_view version, std::string_view status,
                          std::string_view connection, std::string_view fields) {
  std::string head(version);
  head += " ";
  head += status;
  head += "\r\nServer: monoceros\r\nDate: ";
  head += kDate;
  head += "\r\nConnection: ";
  head += connection;
  head += "\r\n";
  head += fields;
  head += "\r\n";
  return head;
}

// Starts a "200 OK" response with one Content-Type field and optionally a Content-Length.
ResponseFraming started(const Request& request, std::optional<std::uint64_t> length, int code = 200,
                        std::string status = "200 OK") {
  ResponseFraming framing(request);
  HeaderFields fields = {{"Content-Type", "text/plain"}};
  if (length) fields.emplace_back("Content-Length", std::to_string(*length));
  framing.start(code, std::move(status), std::move(fields), length, false);
  return framing;
}

// Frames `piece` as a caller does: the returned count of its bytes, between the framing.
std::uint64_t send_piece(ResponseFraming& framing, std::string& out, std::string_view piece) {
  const std::uint64_t count = framing.begin_piece(out, piece.size());
  if (count == 0) return 0;
  out += piece.substr(0, static_cast<std::size_t>(count));
  framing.end_piece(out);
  return count;
}

}  // namespace

TEST(framing_length_given_keeps_alive) {
  ResponseFraming framing = started(kKeepAlive11, 5);
  std::string out;
  framing.write_head(out, kServer, kDate);
  CHECK_EQ(out, expected_head("HTTP/1.1", "200 OK", "keep-alive",
                              "Content-Type: text/plain\r\nContent-Length: 5\r\n"));
  CHECK(framing.head_sent());
  CHECK(!framing.chunked());
  CHECK(framing.body_allowed());
  out.clear();
  CHECK_EQ(send_piece(framing, out, "hello"), std::uint64_t{5});
  framing.finish(out);
  CHECK_EQ(out, std::string("hello"));
  CHECK_EQ(framing.body_sent(), std::uint64_t{5});
  CHECK(!framing.must_close());
}

TEST(framing_length_from_whole_body_is_the_last_field) {
  ResponseFraming framing = started(kKeepAlive11, std::nullopt);
  framing.set_whole_body(11);
  CHECK(framing.has_content_length());
  CHECK_EQ(framing.content_length(), std::uint64_t{11});
  std::string out;
  framing.write_head(out, kServer, kDate);
  CHECK_EQ(out, expected_head("HTTP/1.1", "200 OK", "keep-alive",
                              "Content-Type: text/plain\r\nContent-Length: 11\r\n"));
  CHECK_EQ(framing.headers().back().first, std::string("Content-Length"));
  CHECK_EQ(framing.headers().back().second, std::string("11"));
}

TEST(framing_whole_body_keeps_the_apps_length) {
  // The app's own Content-Length wins; a short body then closes the connection (below).
  ResponseFraming framing = started(kKeepAlive11, 3);
  framing.set_whole_body(5);
  CHECK_EQ(framing.content_length(), std::uint64_t{3});
  CHECK_EQ(framing.headers().size(), std::size_t{2});
}

TEST(framing_no_length_on_http11_is_chunked) {
  ResponseFraming framing = started(kKeepAlive11, std::nullopt);
  std::string out;
  framing.write_head(out, kServer, kDate);
  CHECK_EQ(out, expected_head("HTTP/1.1", "200 OK", "keep-alive",
                              "Transfer-Encoding: chunked\r\nContent-Type: text/plain\r\n"));
  CHECK(framing.chunked());
  CHECK(!framing.has_content_length());
  out.clear();
  send_piece(framing, out, "hello");
  send_piece(framing, out, std::string(26, 'x'));
  framing.finish(out);
  CHECK_EQ(out, "5\r\nhello\r\n1a\r\n" + std::string(26, 'x') + "\r\n0\r\n\r\n");
  CHECK_EQ(framing.body_sent(), std::uint64_t{31});
  CHECK(!framing.must_close());
}

TEST(framing_empty_piece_writes_nothing) {
  // RFC 9112 §7.1: a zero-size chunk is the last chunk, so an empty piece must not become one.
  ResponseFraming chunked = started(kKeepAlive11, std::nullopt);
  std::string out;
  chunked.write_head(out, kServer, kDate);
  out.clear();
  CHECK_EQ(chunked.begin_piece(out, 0), std::uint64_t{0});
  CHECK_EQ(out, std::string());
  send_piece(chunked, out, "ab");
  CHECK_EQ(chunked.begin_piece(out, 0), std::uint64_t{0});
  chunked.finish(out);
  CHECK_EQ(out, std::string("2\r\nab\r\n0\r\n\r\n"));

  ResponseFraming sized = started(kKeepAlive11, 2);
  out.clear();
  sized.write_head(out, kServer, kDate);
  out.clear();
  CHECK_EQ(sized.begin_piece(out, 0), std::uint64_t{0});
  CHECK_EQ(out, std::string());
}

TEST(framing_no_body_gets_length_zero) {
  ResponseFraming framing = started(kKeepAlive11, std::nullopt);
  framing.set_no_body();
  std::string out;
  framing.write_head(out, kServer, kDate);
  framing.finish(out);
  CHECK_EQ(out, expected_head("HTTP/1.1", "200 OK", "keep-alive",
                              "Content-Type: text/plain\r\nContent-Length: 0\r\n"));
  CHECK(!framing.chunked());
  CHECK(!framing.must_close());
}

TEST(framing_http10_without_length_is_close_delimited) {
  // RFC 9112 §6.1: no chunked to an HTTP/1.0 client; §6.3: the body ends when the connection
  // does. Even a client that asked for keep-alive is told close.
  for (const Request& request : {kPlain10, kKeepAlive10}) {
    ResponseFraming framing = started(request, std::nullopt);
    std::string out;
    framing.write_head(out, kServer, kDate);
    CHECK_EQ(out, expected_head("HTTP/1.0", "200 OK", "close", "Content-Type: text/plain\r\n"));
    CHECK(!framing.chunked());
    CHECK(framing.must_close());
    out.clear();
    send_piece(framing, out, "hello");
    framing.finish(out);
    CHECK_EQ(out, std::string("hello"));
  }
}

TEST(framing_http10_with_length_may_keep_alive) {
  ResponseFraming framing = started(kKeepAlive10, 2);
  std::string out;
  framing.write_head(out, kServer, kDate);
  CHECK_EQ(out, expected_head("HTTP/1.0", "200 OK", "keep-alive",
                              "Content-Type: text/plain\r\nContent-Length: 2\r\n"));
  CHECK(!framing.must_close());

  ResponseFraming closing = started(kPlain10, 2);
  out.clear();
  closing.write_head(out, kServer, kDate);
  CHECK(out.find("\r\nConnection: close\r\n") != std::string::npos);
  CHECK(!closing.must_close());  // the worker closes it: the client did not ask to keep it
}

TEST(framing_http10_head_without_length_need_not_close) {
  // No body follows a HEAD response, so nothing needs the connection's end to delimit it.
  ResponseFraming framing =
      started({.version_minor = 0, .head = true, .keep_alive = true}, std::nullopt);
  framing.set_no_body();
  std::string out;
  framing.write_head(out, kServer, kDate);
  CHECK_EQ(out, expected_head("HTTP/1.0", "200 OK", "keep-alive", "Content-Type: text/plain\r\n"));
  CHECK(!framing.must_close());
}

TEST(framing_head_sends_no_body_bytes) {
  ResponseFraming framing = started(kHead11, 5);
  CHECK(!framing.body_allowed());
  std::string out;
  framing.write_head(out, kServer, kDate);
  CHECK_EQ(out, expected_head("HTTP/1.1", "200 OK", "keep-alive",
                              "Content-Type: text/plain\r\nContent-Length: 5\r\n"));
  out.clear();
  CHECK_EQ(framing.begin_piece(out, 5), std::uint64_t{0});
  framing.finish(out);
  CHECK_EQ(out, std::string());
  CHECK_EQ(framing.body_sent(), std::uint64_t{0});
  // No bytes were due: the "short" body is no reason to close.
  CHECK(!framing.must_close());
}

TEST(framing_head_gets_the_whole_bodys_length_but_not_an_empty_ones) {
  // RFC 9110 §9.3.2: the fields GET would send; a whole body's length is known, but an app
  // that produced nothing for HEAD may have skipped a body GET would have.
  ResponseFraming whole = started(kHead11, std::nullopt);
  whole.set_whole_body(42);
  std::string out;
  whole.write_head(out, kServer, kDate);
  CHECK_EQ(out, expected_head("HTTP/1.1", "200 OK", "keep-alive",
                              "Content-Type: text/plain\r\nContent-Length: 42\r\n"));

  ResponseFraming empty = started(kHead11, std::nullopt);
  empty.set_no_body();
  out.clear();
  empty.write_head(out, kServer, kDate);
  CHECK_EQ(out, expected_head("HTTP/1.1", "200 OK", "keep-alive", "Content-Type: text/plain\r\n"));
  CHECK(!empty.chunked());
  CHECK(!empty.has_content_length());
  CHECK(!empty.must_close());
}

TEST(framing_204_drops_content_length_and_body) {
  // RFC 9110 §8.6: no Content-Length in a 204; §6.4.1: no content either.
  ResponseFraming framing = started(kKeepAlive11, 5, 204, "204 No Content");
  framing.set_whole_body(5);
  std::string out;
  framing.write_head(out, kServer, kDate);
  CHECK_EQ(out, expected_head("HTTP/1.1", "204 No Content", "keep-alive",
                              "Content-Type: text/plain\r\n"));
  CHECK(!framing.has_content_length());
  CHECK_EQ(framing.headers().size(), std::size_t{1});
  CHECK(!framing.chunked());
  out.clear();
  CHECK_EQ(framing.begin_piece(out, 5), std::uint64_t{0});
  framing.finish(out);
  CHECK_EQ(out, std::string());
  CHECK(!framing.must_close());
}

TEST(framing_204_gets_no_length_from_its_body) {
  for (int code : {204, 304, 100}) {
    ResponseFraming framing =
        started(kKeepAlive11, std::nullopt, code, std::to_string(code) + " X");
    framing.set_whole_body(3);
    framing.set_no_body();
    CHECK(!framing.has_content_length());
    std::string out;
    framing.write_head(out, kServer, kDate);
    CHECK(out.find("Content-Length") == std::string::npos);
    CHECK(out.find("Transfer-Encoding") == std::string::npos);
    CHECK(!framing.must_close());
  }
}

TEST(framing_304_keeps_content_length_without_body) {
  // RFC 9110 §8.6: a 304's Content-Length is the length a 200 would have had.
  ResponseFraming framing = started(kKeepAlive11, 5, 304, "304 Not Modified");
  std::string out;
  framing.write_head(out, kServer, kDate);
  CHECK_EQ(out, expected_head("HTTP/1.1", "304 Not Modified", "keep-alive",
                              "Content-Type: text/plain\r\nContent-Length: 5\r\n"));
  CHECK(framing.has_content_length());
  out.clear();
  CHECK_EQ(framing.begin_piece(out, 5), std::uint64_t{0});
  framing.finish(out);
  CHECK_EQ(out, std::string());
  CHECK(!framing.must_close());
}

TEST(framing_1xx_upgrade) {
  // A websocket handshake: Connection: upgrade passes through, Content-Length goes (§8.6).
  ResponseFraming framing(kKeepAlive11);
  framing.start(101, "101 Switching Protocols", {{"Upgrade", "websocket"}, {"Content-Length", "0"}},
                0, true);
  std::string out;
  framing.write_head(out, kServer, kDate);
  CHECK_EQ(out, expected_head("HTTP/1.1", "101 Switching Protocols", "upgrade",
                              "Upgrade: websocket\r\n"));
  CHECK(!framing.body_allowed());
  CHECK(!framing.chunked());
  CHECK(!framing.must_close());
}

TEST(framing_upgrade_wins_over_close) {
  ResponseFraming framing(kClose11);
  framing.start(200, "200 OK", {{"Upgrade", "websocket"}}, std::nullopt, true);
  std::string out;
  framing.write_head(out, kServer, kDate);
  CHECK_EQ(out, expected_head("HTTP/1.1", "200 OK", "upgrade",
                              "Transfer-Encoding: chunked\r\nUpgrade: websocket\r\n"));
}

TEST(framing_close_when_not_kept_alive_or_told_to) {
  ResponseFraming not_kept = started(kClose11, 1);
  std::string out;
  not_kept.write_head(out, kServer, kDate);
  CHECK(out.find("\r\nConnection: close\r\n") != std::string::npos);

  // The caller decided to close before the head left (an early hint could not be written).
  ResponseFraming told = started(kKeepAlive11, 1);
  told.set_must_close();
  out.clear();
  told.write_head(out, kServer, kDate);
  CHECK(out.find("\r\nConnection: close\r\n") != std::string::npos);
  CHECK(told.must_close());
}

TEST(framing_clips_pieces_past_content_length) {
  // RFC 9112 §6.3: bytes past the length would be read as the next response.
  ResponseFraming framing = started(kKeepAlive11, 5);
  std::string out;
  framing.write_head(out, kServer, kDate);
  out.clear();
  CHECK_EQ(send_piece(framing, out, "abc"), std::uint64_t{3});
  CHECK_EQ(send_piece(framing, out, "defgh"), std::uint64_t{2});
  CHECK_EQ(send_piece(framing, out, "ijk"), std::uint64_t{0});
  framing.finish(out);
  CHECK_EQ(out, std::string("abcde"));
  CHECK_EQ(framing.body_sent(), std::uint64_t{5});
  CHECK(!framing.must_close());
}

TEST(framing_short_body_must_close) {
  // RFC 9112 §8: only a closed connection tells the client the body is incomplete.
  ResponseFraming framing = started(kKeepAlive11, 10);
  std::string out;
  framing.write_head(out, kServer, kDate);
  CHECK(out.find("\r\nConnection: keep-alive\r\n") != std::string::npos);
  out.clear();
  send_piece(framing, out, "hello");
  CHECK(!framing.must_close());
  framing.finish(out);
  CHECK_EQ(out, std::string("hello"));
  CHECK(framing.must_close());

  ResponseFraming none = started(kKeepAlive11, 1);
  none.write_head(out, kServer, kDate);
  none.finish(out);
  CHECK(none.must_close());
}

TEST(framing_file_range_in_length_mode) {
  // A file range is framed like any piece; its bytes go by sendfile, never into the buffer.
  ResponseFraming framing = started(kKeepAlive11, 100000);
  std::string out;
  framing.write_head(out, kServer, kDate);
  out.clear();
  CHECK_EQ(framing.begin_piece(out, 70000), std::uint64_t{70000});
  CHECK_EQ(out, std::string());
  framing.end_piece(out);
  CHECK_EQ(out, std::string());
  CHECK_EQ(framing.begin_piece(out, 70000), std::uint64_t{30000});
  framing.end_piece(out);
  CHECK_EQ(framing.begin_piece(out, 1), std::uint64_t{0});
  framing.finish(out);
  CHECK_EQ(out, std::string());
  CHECK_EQ(framing.body_sent(), std::uint64_t{100000});
  CHECK(!framing.must_close());
}

TEST(framing_file_range_in_chunked_mode) {
  ResponseFraming framing = started(kKeepAlive11, std::nullopt);
  std::string out;
  framing.write_head(out, kServer, kDate);
  out.clear();
  const std::uint64_t large = 0x123456789ull;  // past 4 GiB: the size line is not truncated
  CHECK_EQ(framing.begin_piece(out, large), large);
  CHECK_EQ(out, std::string("123456789\r\n"));
  framing.end_piece(out);
  CHECK_EQ(framing.begin_piece(out, 0), std::uint64_t{0});
  framing.finish(out);
  CHECK_EQ(out, std::string("123456789\r\n\r\n0\r\n\r\n"));
  CHECK_EQ(framing.body_sent(), large);
}

TEST(framing_status_without_reason_is_written_as_given) {
  ResponseFraming framing(kKeepAlive11);
  framing.start(200, "200", {}, 2, false);
  std::string out;
  framing.write_head(out, kServer, kDate);
  CHECK_EQ(out, expected_head("HTTP/1.1", "200", "keep-alive", ""));
  CHECK_EQ(framing.status(), std::string("200"));
  CHECK_EQ(framing.status_code(), 200);
}

TEST(framing_start_again_replaces_the_answer) {
  // start_response with exc_info, before the head left: the second answer is the one sent.
  ResponseFraming framing = started(kKeepAlive11, 4);
  framing.start(503, "503 Busy", {{"Retry-After", "1"}}, std::nullopt, false);
  framing.set_whole_body(2);
  std::string out;
  framing.write_head(out, kServer, kDate);
  CHECK_EQ(out, expected_head("HTTP/1.1", "503 Busy", "keep-alive",
                              "Retry-After: 1\r\nContent-Length: 2\r\n"));
}

TEST(framing_head_appends_to_what_the_buffer_holds) {
  std::string out = "before";
  ResponseFraming framing = started(kKeepAlive11, 0);
  framing.write_head(out, kServer, kDate);
  CHECK(out.rfind("beforeHTTP/1.1 200 OK\r\n", 0) == 0);
}

TEST(framing_early_hints) {
  ResponseFraming framing = started(kKeepAlive11, 2);
  CHECK(framing.early_hints_allowed());
  std::string out;
  ResponseFraming::write_early_hints(out, {{"Link", "</a.css>; rel=preload"}, {"X-A", "b"}});
  CHECK_EQ(out, std::string(
                    "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\nX-A: b\r\n\r\n"));
  framing.write_head(out, kServer, kDate);
  CHECK(!framing.early_hints_allowed());  // only before the final head
  // RFC 9110 §15.2: no 1xx to an HTTP/1.0 client.
  CHECK(!ResponseFraming(kKeepAlive10).early_hints_allowed());
}

TEST(framing_error_page_replaces_the_response) {
  // The app failed after start_response: the server's 500 goes instead, as HTTP/1.1 even to
  // an HTTP/1.0 client, with its body even for HEAD, and the connection closes.
  for (const Request& request : {kKeepAlive11, kKeepAlive10, kHead11}) {
    ResponseFraming framing = started(request, std::nullopt);
    std::string out;
    framing.write_error(out, 500, "Internal Server Error", "", kServer, kDate);
    const std::string page =
        "<html>\n  <head>\n    <title>Internal Server Error</title>\n  </head>\n  <body>\n"
        "    <h1><p>Internal Server Error</p></h1>\n    \n  </body>\n</html>\n";
    CHECK_EQ(out, expected_head("HTTP/1.1", "500 Internal Server Error", "close",
                                "Content-Type: text/html\r\nContent-Length: " +
                                    std::to_string(page.size()) + "\r\n") +
                      page);
    CHECK(framing.head_sent());
    CHECK(framing.must_close());
    CHECK_EQ(framing.status_code(), 500);
    CHECK_EQ(framing.status(), std::string("500 Internal Server Error"));
    CHECK(framing.headers().empty());
    CHECK_EQ(framing.body_sent(), std::uint64_t{0});
  }
}

TEST(framing_error_response_matches_write_error) {
  // http::error_response() is the same page, for requests rejected before any app ran.
  const std::string response =
      error_response(400, "Bad Request", "Invalid <header> & \"more\"", kDate, kServer);
  ResponseFraming framing(kClose11);
  std::string out;
  framing.write_error(out, 400, "Bad Request", "Invalid <header> & \"more\"", kServer, kDate);
  CHECK_EQ(response, out);
  const std::string page =
      "<html>\n  <head>\n    <title>Bad Request</title>\n  </head>\n  <body>\n"
      "    <h1><p>Bad Request</p></h1>\n    Invalid &lt;header&gt; &amp; &quot;more&quot;\n"
      "  </body>\n</html>\n";
  CHECK_EQ(response, expected_head("HTTP/1.1", "400 Bad Request", "close",
                                   "Content-Type: text/html\r\nContent-Length: " +
                                       std::to_string(page.size()) + "\r\n") +
                         page);
}

TEST(framing_error_reason_is_escaped_too) {
  const std::string response = error_response(431, "A<b>", "", kDate, kServer);
  CHECK(response.rfind("HTTP/1.1 431 A<b>\r\n", 0) == 0);  // the status line is not HTML
  CHECK(response.find("<title>A&lt;b&gt;</title>") != std::string::npos);
  const std::size_t body_start = response.find("\r\n\r\n") + 4;
  CHECK(response.find("Content-Length: " + std::to_string(response.size() - body_start)) !=
        std::string::npos);
}
