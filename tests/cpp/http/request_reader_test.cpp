// Unit tests for the RequestReader, the reading side of an HTTP/1.1 connection without I/O:
// each stream is fed whole, then split at every point (and byte by byte), and must yield the
// same requests, bodies, interim-response moments and errors either way.
#include "http/request_reader.hpp"

#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "http_test_support.hpp"

using namespace monoceros::http;

namespace {

// What the owner of the reader sees, as text, so runs compare with ==.
struct Transcript {
  std::vector<std::string> lines;
  bool operator==(const Transcript&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Transcript& transcript) {
  for (const std::string& line : transcript.lines)
    out << "\n  " << line;
  return out;
}

struct Owner {
  std::string body;
  static void take(void* self, std::string_view payload) {
    static_cast<Owner*>(self)->body.append(payload);
  }
};

RequestReader::Settings settings_with(const ParserOptions& parser) {
  RequestReader::Settings settings;
  settings.parser = &parser;
  return settings;
}

// Drives `reader` as worker::Connection does: append what arrived, advance until it needs
// bytes, answer each complete request and go on with the bytes beyond it.
void drive(RequestReader& reader, Owner& owner, Transcript& out) {
  for (;;) {
    const RequestReader::Event event = reader.advance(&Owner::take, &owner);
    switch (event) {
      case RequestReader::Event::need_bytes:
        if (reader.take_continue()) out.lines.push_back("100-continue");
        return;
      case RequestReader::Event::head:
        out.lines.push_back("head " + std::string(reader.request().method) + " " +
                            std::string(reader.request().target));
        continue;
      case RequestReader::Event::complete: {
        std::string line = "request body=" + owner.body;
        if (reader.body_truncated()) line += " (truncated)";
        out.lines.push_back(line);
        owner.body.clear();
        reader.next_request();
        continue;
      }
      case RequestReader::Event::failed:
        out.lines.push_back(std::string("error ") + error_name(reader.error()));
        return;
    }
  }
}

Transcript run(const RequestReader::Settings& settings, const std::vector<std::string>& pieces,
               bool end_stream = false) {
  RequestReader reader(settings);
  Owner owner;
  Transcript out;
  for (const std::string& piece : pieces) {
    if (!out.lines.empty() && out.lines.back().starts_with("error")) break;  // closed
    reader.append(piece);
    drive(reader, owner, out);
  }
  if (end_stream && reader.reading_body()) {
    if (reader.end_of_stream() == RequestReader::Event::complete) {
      out.lines.push_back("request body=" + owner.body + " (truncated)");
    } else {
      out.lines.push_back(std::string("error ") + error_name(reader.error()));
    }
  }
  return out;
}

// The stream whole, split in two at every point, and byte by byte: one transcript.
void check_every_split(const RequestReader::Settings& settings, const std::string& stream,
                       const Transcript& expected, bool end_stream = false) {
  CHECK_EQ(run(settings, {stream}, end_stream), expected);
  for (std::size_t cut = 1; cut < stream.size(); ++cut) {
    const Transcript split = run(settings, {stream.substr(0, cut), stream.substr(cut)}, end_stream);
    if (!(split == expected)) {
      CHECK_EQ(split, expected);
      return;  // one report per stream is enough
    }
  }
  std::vector<std::string> bytes;
  for (char c : stream)
    bytes.emplace_back(1, c);
  CHECK_EQ(run(settings, bytes, end_stream), expected);
}

}  // namespace

TEST(request_reader_pipelined_heads_at_every_split) {
  ParserOptions parser;
  check_every_split(settings_with(parser),
                    "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n",
                    {{"head GET /a", "request body=", "head GET /b", "request body="}});
}

TEST(request_reader_content_length_bodies_and_what_follows) {
  ParserOptions parser;
  check_every_split(settings_with(parser),
                    "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                    "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
                    "GET /c HTTP/1.1\r\nHost: x\r\n\r\n",
                    {{"head POST /a", "request body=hello", "head POST /b",
                      "request body=", "head GET /c", "request body="}});
}

TEST(request_reader_chunked_body_then_a_pipelined_request) {
  ParserOptions parser;
  check_every_split(
      settings_with(parser),
      "POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
      "GET /next HTTP/1.1\r\nHost: x\r\n\r\n",
      {{"head POST /up", "request body=hello world", "head GET /next", "request body="}});
}

TEST(request_reader_asks_for_100_continue_only_while_the_body_is_awaited) {
  ParserOptions parser;
  const std::string head =
      "PUT /f HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n";
  // The client waits for the interim response: it is due once, then the body comes.
  CHECK_EQ(run(settings_with(parser), {head, "abc"}),
           (Transcript{{"head PUT /f", "100-continue", "request body=abc"}}));
  // The body came with the head anyway: no interim response.
  CHECK_EQ(run(settings_with(parser), {head + "abc"}),
           (Transcript{{"head PUT /f", "request body=abc"}}));
}

TEST(request_reader_refuses_a_content_length_over_the_limit_from_the_head) {
  ParserOptions parser;
  RequestReader::Settings settings = settings_with(parser);
  settings.body_limit = 4;
  check_every_split(settings,
                    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
                    "GET /never HTTP/1.1\r\nHost: x\r\n\r\n",
                    {{"error body_too_large"}});
  check_every_split(settings,
                    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
                    {{"head POST /", "error body_too_large"}});
}

TEST(request_reader_parses_nothing_after_an_error) {
  ParserOptions parser;
  check_every_split(settings_with(parser),
                    "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nBad Header: x\r\n\r\n"
                    "GET /c HTTP/1.1\r\nHost: x\r\n\r\n",
                    {{"head GET /a", "request body=", "error invalid_header_name"}});
}

TEST(request_reader_end_of_stream_inside_a_body) {
  ParserOptions parser;
  check_every_split(settings_with(parser),
                    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc",
                    {{"head POST /", "request body=abc (truncated)"}}, true);
  check_every_split(settings_with(parser),
                    "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc",
                    {{"head POST /", "error chunk_missing_terminator"}}, true);
}

TEST(request_reader_proxy_header_before_the_first_request_only) {
  ParserOptions parser;
  RequestReader::Settings settings = settings_with(parser);
  settings.proxy = ProxyProtocolMode::v1;
  settings.proxy_sender_allowed = true;
  const std::string stream =
      "PROXY TCP4 10.0.0.1 10.0.0.2 1234 80\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n";
  check_every_split(settings, stream, {{"head GET /", "request body="}});
  RequestReader reader(settings);
  reader.append(stream);
  Owner owner;
  CHECK(!reader.proxy_settled());
  CHECK(reader.advance(&Owner::take, &owner) == RequestReader::Event::head);
  CHECK(reader.proxy_settled());
  CHECK_EQ(reader.proxy().client_addr, std::string("10.0.0.1"));
  // A second PROXY line is just a bad request line.
  check_every_split(settings, stream + "PROXY TCP4 10.0.0.9 10.0.0.2 1 80\r\n\r\n",
                    {{"head GET /", "request body=", "error invalid_version"}});
  // From a sender not in proxy_allow_ips: refused as soon as it is seen to be one.
  settings.proxy_sender_allowed = false;
  check_every_split(settings, stream, {{"error forbidden_proxy"}});
}

TEST(request_reader_owner_refusal_and_its_queries) {
  ParserOptions parser;
  RequestReader reader(settings_with(parser));
  Owner owner;
  CHECK(reader.idle());
  reader.append("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nab");
  CHECK(!reader.idle());
  CHECK(reader.advance(&Owner::take, &owner) == RequestReader::Event::head);
  CHECK_EQ(reader.request().content_length, 3u);
  CHECK(reader.advance(&Owner::take, &owner) == RequestReader::Event::need_bytes);
  CHECK(reader.reading_body());
  CHECK_EQ(owner.body, std::string("ab"));
  // Body bytes now go to another buffer: the head's views do not move.
  const char* method = reader.request().method.data();
  reader.input().prepare(1 << 20);
  reader.append("cGET");
  CHECK(reader.advance(&Owner::take, &owner) == RequestReader::Event::complete);
  CHECK(reader.request().method.data() == method);
  CHECK(reader.bytes_beyond_request());
  CHECK(reader.next_request());  // "GET" waits as the next head
  CHECK(!reader.idle());
  reader.refuse(ParseError::body_spool_full);
  CHECK(reader.advance(&Owner::take, &owner) == RequestReader::Event::failed);
  CHECK(reader.error() == ParseError::body_spool_full);
}

TEST(request_reader_idle_between_requests_holds_no_header_storage) {
  ParserOptions parser;
  RequestReader reader(settings_with(parser));
  Owner owner;
  reader.append("GET /a HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(reader.advance(&Owner::take, &owner) == RequestReader::Event::head);
  CHECK(reader.advance(&Owner::take, &owner) == RequestReader::Event::complete);
  CHECK(reader.request().headers.capacity() > 0);
  CHECK(!reader.next_request());
  CHECK_EQ(reader.request().headers.capacity(), 0u);  // an idle kept-alive client costs little
  // With a pipelined request waiting, the storage is reused.
  reader.append("GET /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(reader.advance(&Owner::take, &owner) == RequestReader::Event::head);
  CHECK(reader.advance(&Owner::take, &owner) == RequestReader::Event::complete);
  CHECK(reader.next_request());
  CHECK(reader.request().headers.capacity() > 0);
}
