// Unit tests for ChunkedDecoder: valid bodies, every F row, limits, and split invariance.
#include <string>
#include <vector>

#include "check.hpp"
#include "http/http_test_support.hpp"

using namespace monoceros::http;
using monoceros::http::test::decode;
using monoceros::http::test::decode_bytewise;
using monoceros::http::test::decode_pieces;
using monoceros::http::test::Decoded;

namespace {

using Trailers = std::vector<std::pair<std::string, std::string>>;

// Decodes `body` whole, byte by byte and split at every single offset, and checks that all of
// them agree. Returns the whole-feed result.
Decoded decode_all_ways(const std::string& body, const ParserOptions* options = nullptr) {
  const Decoded whole = decode(body, options);
  const Decoded bytewise = decode_bytewise(body, options);
  CHECK_EQ(bytewise.status, whole.status);
  CHECK_EQ(bytewise.error, whole.error);
  CHECK(bytewise == whole);
  for (std::size_t cut = 1; cut < body.size(); ++cut) {
    const Decoded split = decode_pieces(body, {cut}, options);
    if (!(split == whole)) {
      CHECK(split == whole);
      CHECK_EQ(cut, std::size_t{0});  // prints the split that disagreed
      break;
    }
  }
  return whole;
}

void expect_body(const std::string& body, const std::string& payload, const Trailers& trailers = {},
                 const ParserOptions* options = nullptr) {
  const Decoded d = decode_all_ways(body, options);
  CHECK_EQ(d.status, ChunkedStatus::complete);
  CHECK_EQ(d.error, ParseError::none);
  CHECK_EQ(d.payload, payload);
  CHECK(d.trailers == trailers);
  CHECK_EQ(d.consumed, body.size());
  CHECK_EQ(d.body_size, payload.size());
}

void expect_error(const std::string& body, ParseError error,
                  const ParserOptions* options = nullptr) {
  const Decoded d = decode_all_ways(body, options);
  CHECK_EQ(d.status, ChunkedStatus::error);
  CHECK_EQ(d.error, error);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Valid bodies

TEST(chunked_simple_bodies) {
  expect_body("0\r\n\r\n", "");
  expect_body("5\r\nhello\r\n0\r\n\r\n", "hello");
  expect_body("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world");
  expect_body("1e\r\nall your base are belong to us\r\n0\r\n\r\n",
              "all your base are belong to us");
  expect_body("1\r\n\r\r\n1\r\n\n\r\n0\r\n\r\n", "\r\n");  // CR/LF inside data are data
}

TEST(chunked_hex_digits_and_leading_zeros) {
  // Checklist F14 / RFC 9112 §7.1: HEXDIG either case, leading zeros.
  expect_body("A\r\n0123456789\r\n0\r\n\r\n", "0123456789");
  expect_body("a\r\n0123456789\r\n0\r\n\r\n", "0123456789");
  expect_body("000005\r\nhello\r\n000\r\n\r\n", "hello");
  expect_body("0005\r\nhello\r\n0\r\n\r\n", "hello");
  expect_body("0000000000000005\r\nhello\r\n0\r\n\r\n", "hello");  // 16 digits
  const std::string big(0x1f, 'z');
  expect_body("1F\r\n" + big + "\r\n0\r\n\r\n", big);
  expect_body("1f\r\n" + big + "\r\n0\r\n\r\n", big);
}

TEST(chunked_extensions_are_accepted_and_ignored) {
  expect_body("5; some; parameters=stuff\r\nhello\r\n6; blahblah; blah\r\n world\r\n0\r\n\r\n",
              "hello world");
  expect_body("5;foo=\"bar baz\"\r\nhello\r\n0\r\n\r\n", "hello");
  expect_body("5;ext=value\r\nhello\r\n0\r\n\r\n", "hello");
  expect_body("5 ; c\r\nhello\r\n0\r\n\r\n", "hello");
  expect_body("6 ; comment\r\nhello!\r\n0\r\n\r\n", "hello!");
  expect_body("5\t;\ta\t=\tb\t;c\r\nhello\r\n0;last\r\n\r\n", "hello");
  expect_body("5;a=\"q\\\"uoted\\\\\";b=\"\"\r\nhello\r\n0\r\n\r\n", "hello");
  expect_body("5;a=\"\x80\xff obs\"\r\nhello\r\n0\r\n\r\n", "hello");
  expect_body("5;a=\"x\" ;b\r\nhello\r\n0\r\n\r\n", "hello");
  expect_body("5;a=b ;c\r\nhello\r\n0\r\n\r\n", "hello");
}

TEST(chunked_trailers) {
  expect_body("5\r\nhello\r\n6\r\n world\r\n0\r\nVary: *\r\nContent-Type: text/plain\r\n\r\n",
              "hello world", {{"Vary", "*"}, {"Content-Type", "text/plain"}});
  expect_body("0\r\nX-Checksum:  \t abc \t\r\n\r\n", "", {{"X-Checksum", "abc"}});
  expect_body("0\r\nX: caf\xc3\xa9\r\nY:\r\n\r\n", "", {{"X", "caf\xc3\xa9"}, {"Y", ""}});
  // A trailer line that looks like a request line is just a trailer (valid syntax).
  expect_body("0\r\nX:POST / HTTP/1.1\r\n\r\n", "", {{"X", "POST / HTTP/1.1"}});
}

TEST(chunked_consumed_stops_at_the_next_request) {
  const std::string body = "5\r\nhello\r\n0\r\n\r\n";
  const std::string next = "GET /second HTTP/1.1\r\n\r\n";
  ChunkedDecoder decoder;
  std::string payload;
  const ChunkedResult r = decoder.feed(body + next, test::append_sink, &payload);
  CHECK_EQ(r.status, ChunkedStatus::complete);
  CHECK_EQ(r.consumed, body.size());
  CHECK_EQ(payload, "hello");
  // Feeding after completion consumes nothing.
  const ChunkedResult again = decoder.feed(next, test::append_sink, &payload);
  CHECK_EQ(again.status, ChunkedStatus::complete);
  CHECK_EQ(again.consumed, 0u);
  // Split variants reach the same boundary.
  const Decoded split = decode_pieces(body + next, {3, 9, 14});
  CHECK_EQ(split.status, ChunkedStatus::complete);
  CHECK_EQ(split.consumed, body.size());
}

TEST(chunked_null_sink_and_reset) {
  ChunkedDecoder decoder{};
  CHECK_EQ(decoder.feed("3\r\nabc\r\n0\r\nA: b\r\n\r\n", nullptr, nullptr).status,
           ChunkedStatus::complete);
  CHECK_EQ(decoder.body_size(), 3u);
  CHECK_EQ(decoder.trailers().size(), 1u);
  decoder.reset();
  CHECK_EQ(decoder.body_size(), 0u);
  CHECK(decoder.trailers().empty());
  std::string payload;
  CHECK_EQ(decoder.feed("2\r\nok\r\n0\r\n\r\n", test::append_sink, &payload).status,
           ChunkedStatus::complete);
  CHECK_EQ(payload, "ok");
  // reset() also clears an error.
  CHECK_EQ(decoder.feed("x", nullptr, nullptr).status, ChunkedStatus::complete);
  decoder.reset();
  CHECK_EQ(decoder.feed("x", nullptr, nullptr).status, ChunkedStatus::error);
  CHECK_EQ(decoder.feed("0\r\n\r\n", nullptr, nullptr).error, ParseError::invalid_chunk_size);
  decoder.reset();
  CHECK_EQ(decoder.feed("0\r\n\r\n", nullptr, nullptr).status, ChunkedStatus::complete);
}

TEST(chunked_body_limit_refuses_from_the_size_line) {
  ChunkedDecoder decoder{};
  decoder.set_body_limit(8);
  std::string payload;
  // Exactly at the limit, over several chunks.
  CHECK_EQ(decoder.feed("3\r\nabc\r\n5\r\ndefgh\r\n0\r\n\r\n", test::append_sink, &payload).status,
           ChunkedStatus::complete);
  CHECK_EQ(payload, "abcdefgh");
  // One byte over: refused at the second size line, before its data arrives.
  decoder.reset();
  payload.clear();
  const ChunkedResult over = decoder.feed("3\r\nabc\r\n6\r\n", test::append_sink, &payload);
  CHECK_EQ(over.status, ChunkedStatus::error);
  CHECK_EQ(over.error, ParseError::body_too_large);
  CHECK_EQ(payload, "abc");
  // A 2^64-1 size with a limit is a 413, not a wait for data that never comes.
  decoder.reset();
  CHECK_EQ(decoder.feed("ffffffffffffffff\r\n", nullptr, nullptr).error,
           ParseError::body_too_large);
  // 0 lifts the limit again.
  decoder.set_body_limit(0);
  decoder.reset();
  CHECK_EQ(decoder.feed("ffffffffffffffff\r\nab", nullptr, nullptr).status, ChunkedStatus::partial);
}

TEST(chunked_partial_input) {
  for (const std::string body :
       {"5\r\nhel", "5", "5;a=\"b", "5\r\nhello", "5\r\nhello\r", "5\r\nhello\r\n0",
        "5\r\nhello\r\n0\r\n", "0\r\nX: y\r\n", "0\r\nX: y", "0\r\n\r", ""}) {
    const Decoded d = decode_all_ways(body);
    CHECK_EQ(d.status, ChunkedStatus::partial);
    CHECK_EQ(d.consumed, body.size());
  }
}

TEST(chunked_large_chunk_streamed_without_copy) {
  const std::string data(100000, 'd');
  const std::string body = "186a0\r\n" + data + "\r\n0\r\n\r\n";
  const Decoded d = decode_pieces(body, {1000, 50000, 99999, 100007});
  CHECK_EQ(d.status, ChunkedStatus::complete);
  CHECK(d.payload == data);
  CHECK_EQ(d.body_size, 100000u);
}

TEST(chunked_many_tiny_chunks) {
  // F13: bounded work per octet.
  std::string body;
  for (int i = 0; i < 100000; ++i)
    body += "1\r\nZ\r\n";
  body += "0\r\n\r\n";
  const Decoded d = decode(body);
  CHECK_EQ(d.status, ChunkedStatus::complete);
  CHECK_EQ(d.payload.size(), 100000u);
}

// ---------------------------------------------------------------------------------------------
// F rows: malformed bodies

TEST(chunked_row_f1_non_hexdig_size) {
  for (const char* size : {"0x5", "+5", "-5", "-1", "6_0", "0_2e", "1x", "z", "1_0", "g", " ",
                           "\xef\xbc\x95", "5.0"}) {
    expect_error(std::string(size) + "\r\nhello\r\n0\r\n\r\n", ParseError::invalid_chunk_size);
  }
  expect_error("5\r\nhello\r\n6_0\r\n world\r\n0\r\n\r\n", ParseError::invalid_chunk_size);
}

TEST(chunked_row_f2_whitespace_around_size) {
  expect_error(" 5\r\nhello\r\n0\r\n\r\n", ParseError::invalid_chunk_size);
  expect_error("5 \r\nhello\r\n0\r\n\r\n", ParseError::invalid_chunk_size);
  expect_error("5\t\r\nhello\r\n0\r\n\r\n", ParseError::invalid_chunk_size);
  expect_error("5\r\nhello\r\n0 \r\n\r\n", ParseError::invalid_chunk_size);
  expect_error("5\r\nhello\r\n 0\r\n\r\n", ParseError::invalid_chunk_size);
}

TEST(chunked_row_f3_empty_size) {
  expect_error("\r\nhello\r\n0\r\n\r\n", ParseError::invalid_chunk_size);
  expect_error(" ;foo=bar\r\nhello\r\n0\r\n\r\n", ParseError::invalid_chunk_size);
  expect_error(";foo=bar\r\nhello\r\n0\r\n\r\n", ParseError::invalid_chunk_size);
}

TEST(chunked_row_f4_size_overflow) {
  expect_error("FFFFFFFFFFFFFFFF0\r\n", ParseError::invalid_chunk_size);
  expect_error("00000000000000005\r\nhello\r\n", ParseError::invalid_chunk_size);  // 17 digits
  expect_error(std::string(100, '9') + "\r\n", ParseError::invalid_chunk_size);
  // 16 digits fit, but the running total may not wrap around.
  ChunkedDecoder decoder;
  const std::string first = "ffffffffffffffff\r\n" + std::string(10, 'x');
  CHECK_EQ(decoder.feed(first, nullptr, nullptr).status, ChunkedStatus::partial);
  CHECK_EQ(decoder.body_size(), 10u);
}

TEST(chunked_row_f5_bare_lf_in_size_line) {
  expect_error("5\nhello\r\n0\r\n\r\n", ParseError::invalid_chunk_size);
  expect_error("5;\nhello\r\n0\r\n\r\n", ParseError::invalid_chunk_extension);
  expect_error("5\n;\r\nhello\r\n0\r\n\r\n", ParseError::invalid_chunk_size);
  expect_error("5;a\nhello\r\n0\r\n\r\n", ParseError::invalid_chunk_extension);
  expect_error("5;a=b\nhello\r\n0\r\n\r\n", ParseError::invalid_chunk_extension);
  expect_error("5\r\nhello\r\n0\n\r\n", ParseError::invalid_chunk_size);
}

TEST(chunked_row_f6_bare_cr) {
  expect_error("5\rhello\r\n0\r\n\r\n", ParseError::invalid_chunk_size);
  expect_error("5\r\r;ABCD\r\nhello\r\n0\r\n\r\n", ParseError::invalid_chunk_size);
  expect_error("5;a\rX\r\nhello\r\n0\r\n\r\n", ParseError::invalid_chunk_extension);
  expect_error("5;ext=val\rue\r\nhello\r\n0\r\n\r\n", ParseError::invalid_chunk_extension);
  expect_error("5;ext=\"val\rue\"\r\nhello\r\n0\r\n\r\n", ParseError::invalid_chunk_extension);
}

TEST(chunked_row_f7_bad_extension_syntax) {
  for (const std::string& ext : std::vector<std::string>{
           ";", "; ", ";bad[=x", std::string(";\0ext", 5), ";a=\"b", ";a=", ";a= ", ";=b", ";a=b c",
           ";a b", ";a ", ";a=\"b\"c", ";a=b=c", ";a;;b", ";a=\"\\\x01\"", ";a=\"\x7f\"", ";a,b",
           ";a=b,c", ";@"}) {
    expect_error("5" + ext + "\r\nhello\r\n0\r\n\r\n", ParseError::invalid_chunk_extension);
  }
}

TEST(chunked_row_f8_extension_cap) {
  // 4 KiB per chunk-size line: 64 KiB of extension fails once the cap is passed.
  expect_error("5;ext=" + std::string(65536, 'a') + "\r\nhello\r\n0\r\n\r\n",
               ParseError::invalid_chunk_extension);
  // Just under the cap is fine (line = "5;e=" + value + CRLF).
  const std::string value(4096 - 4 - 2, 'a');
  expect_body("5;e=" + value + "\r\nhello\r\n0\r\n\r\n", "hello");
  expect_error("5;e=" + value + "a\r\nhello\r\n0\r\n\r\n", ParseError::invalid_chunk_extension);
  // The cap fires before the line ends, so an endless extension cannot hold the connection.
  ChunkedDecoder decoder;
  CHECK_EQ(decoder.feed("5;e=" + std::string(5000, 'a'), nullptr, nullptr).status,
           ChunkedStatus::error);
}

TEST(chunked_row_f9_data_not_followed_by_crlf) {
  expect_error("5\r\nhello!!\r\n", ParseError::chunk_missing_terminator);
  expect_error("5\r\nhelloXX0\r\n\r\n", ParseError::chunk_missing_terminator);
  expect_error("5\r\nhello0\r\n\r\n", ParseError::chunk_missing_terminator);
  expect_error("5\r\nhello\n0\r\n\r\n", ParseError::chunk_missing_terminator);
  expect_error("5\r\nhello\r0\r\n\r\n", ParseError::chunk_missing_terminator);
  expect_error("3\r\nhello\r\n0\r\n\r\n", ParseError::chunk_missing_terminator);
}

TEST(chunked_row_f10_last_chunk_without_final_crlf) {
  // "0\r\n" then EOF: the decoder waits (the connection turns EOF mid-body into a 400).
  const Decoded eof = decode_all_ways("0\r\n");
  CHECK_EQ(eof.status, ChunkedStatus::partial);
  // A request line where the trailer section should be is not a field line.
  expect_error("0\r\nPOST / HTTP/1.1\r\n\r\n", ParseError::invalid_trailer);
  expect_error("0\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", ParseError::invalid_trailer);
}

TEST(chunked_row_f11_trailers) {
  for (const char* name : {"Content-Length", "Transfer-Encoding", "Host", "Authorization", "TE",
                           "Trailer", "content-length", "HOST", "te", "tRaIlEr"}) {
    expect_error(std::string("5\r\nhello\r\n0\r\n") + name + ": x\r\n\r\n",
                 ParseError::invalid_trailer);
  }
  expect_error("0\r\n\n", ParseError::invalid_trailer);
  expect_error("0\r\n\r\r\n", ParseError::invalid_trailer);
  expect_error("0\r\nX: y\n\r\n", ParseError::invalid_trailer);
  expect_error("0\r\nX: y\r\n\n", ParseError::invalid_trailer);
  expect_error("0\r\nNoColon\r\n\r\n", ParseError::invalid_trailer);
  expect_error("0\r\n: v\r\n\r\n", ParseError::invalid_trailer);
  expect_error("0\r\nX : v\r\n\r\n", ParseError::invalid_trailer);
  expect_error(
      "0\r\nX: a\x01"
      "b\r\n\r\n",
      ParseError::invalid_trailer);
  expect_error("0\r\nX: a\rb\r\n\r\n", ParseError::invalid_trailer);
  expect_error("0\r\n X: a\r\n\r\n", ParseError::invalid_trailer);
  expect_error("0\r\nX: a\r\n b\r\n\r\n", ParseError::invalid_trailer);  // obs-fold, not permitted
}

TEST(chunked_row_f12_no_resync_after_error) {
  ChunkedDecoder decoder;
  const ChunkedResult r = decoder.feed("INVALID!!!\r\nGET / HTTP/1.1\r\n\r\n", nullptr, nullptr);
  CHECK_EQ(r.status, ChunkedStatus::error);
  CHECK_EQ(r.error, ParseError::invalid_chunk_size);
  const ChunkedResult again = decoder.feed("0\r\n\r\n", nullptr, nullptr);
  CHECK_EQ(again.status, ChunkedStatus::error);
  CHECK_EQ(again.error, ParseError::invalid_chunk_size);
}

// ---------------------------------------------------------------------------------------------
// Trailer limits and options

TEST(chunked_trailer_limits_default_and_from_options) {
  // Default (null options): 100 fields of at most 8190 octets each.
  std::string hundred = "0\r\n";
  for (int i = 0; i < 100; ++i)
    hundred += "T" + std::to_string(i) + ": v\r\n";
  CHECK_EQ(decode(hundred + "\r\n").status, ChunkedStatus::complete);
  CHECK_EQ(decode(hundred + "X: y\r\n\r\n").error, ParseError::invalid_trailer);
  const std::string fits = "0\r\nX: " + std::string(8190 - 5, 'v') + "\r\n\r\n";
  CHECK_EQ(decode(fits).status, ChunkedStatus::complete);
  const std::string too_big = "0\r\nX: " + std::string(8190 - 4, 'v') + "\r\n\r\n";
  CHECK_EQ(decode(too_big).error, ParseError::invalid_trailer);
  CHECK_EQ(decode_bytewise(too_big).error, ParseError::invalid_trailer);
  // Over-long trailer lines fail before their LF.
  ChunkedDecoder endless;
  CHECK_EQ(endless.feed("0\r\nX: " + std::string(9000, 'v'), nullptr, nullptr).status,
           ChunkedStatus::error);

  ParserOptions options;
  options.limit_request_fields = 2;
  options.limit_request_field_size = 20;
  expect_body("0\r\nA: 1\r\nB: 2\r\n\r\n", "", {{"A", "1"}, {"B", "2"}}, &options);
  expect_error("0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", ParseError::invalid_trailer, &options);
  expect_body("0\r\nA: 345678901234567\r\n\r\n", "", {{"A", "345678901234567"}}, &options);
  expect_error("0\r\nA: 3456789012345678\r\n\r\n", ParseError::invalid_trailer, &options);
}

TEST(chunked_trailer_options) {
  ParserOptions fold;
  fold.permit_obsolete_folding = true;
  expect_body("0\r\nX: a\r\n b\r\n\tc \r\n\r\n", "", {{"X", "a b c"}}, &fold);
  expect_error("0\r\n X: a\r\n\r\n", ParseError::invalid_trailer, &fold);

  ParserOptions strip;
  strip.strip_header_spaces = true;
  expect_body("0\r\nX : v\r\n\r\n", "", {{"X", "v"}}, &strip);

  // Underscore trailers follow header_map (no forwarder trust in trailers).
  expect_body("0\r\nX_Y: 1\r\nZ: 2\r\n\r\n", "", {{"Z", "2"}});
  ParserOptions refuse;
  refuse.header_map = UnderscoreHeaders::refuse;
  expect_error("0\r\nX_Y: 1\r\n\r\n", ParseError::invalid_trailer, &refuse);
  ParserOptions dangerous;
  dangerous.header_map = UnderscoreHeaders::dangerous;
  expect_body("0\r\nX_Y: 1\r\n\r\n", "", {{"X_Y", "1"}}, &dangerous);
}

TEST(chunked_split_invariance_sweep) {
  // Every body below, valid or not, gives one answer however it is cut.
  const std::vector<std::string> bodies = {
      "5\r\nhello\r\n6\r\n world\r\n0\r\nVary: *\r\n\r\n",
      "000005;a=\"b;c\"\r\nhello\r\n0;x\r\n\r\n",
      "5\r\nhello\r\n6_0\r\n",
      "5\r\nhelloXX",
      "5;\r\n",
      "0\r\nHost: evil\r\n\r\n",
      "0\r\n\n",
      "FFFFFFFFFFFFFFFF0\r\n",
      "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n",
  };
  for (const std::string& body : bodies) {
    const Decoded whole = decode_all_ways(body);
    // And every pair of cuts on the short ones.
    if (body.size() <= 48) {
      for (std::size_t a = 1; a < body.size(); ++a) {
        for (std::size_t b = a + 1; b < body.size(); ++b) {
          CHECK(decode_pieces(body, {a, b}) == whole);
        }
      }
    }
  }
}
