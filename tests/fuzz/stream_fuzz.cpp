// libFuzzer target: one connection's byte stream as a worker reads it, through the same
// http::RequestReader that worker::Connection drives: an optional PROXY header, then
// pipelined requests, each a head followed by a Content-Length or chunked body (with
// limit_request_body), the bytes past a body carried into the next head. The stream must
// never crash, must yield the same requests, bodies and errors whether it arrives whole or in
// pieces, and nothing may be parsed after an error.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_options.hpp"
#include "http/request_reader.hpp"

using namespace monoceros::http;

namespace {

// What the app (or the client) would see of the stream.
struct Event {
  bool error = false;
  ParseError code = ParseError::none;
  bool truncated = false;  // a Content-Length body cut short by the end of the stream
  std::string method, target, body;
  std::size_t fields = 0;
  std::uint8_t minor = 0;
  bool keep_alive = false;

  bool operator==(const Event&) const = default;
};

struct Settings {
  ParserOptions parser;
  ProxyProtocolMode proxy = ProxyProtocolMode::off;
  bool trusted = false;
  std::uint64_t body_limit = 0;
};

bool inside(std::string_view view, std::string_view buffer) {
  return view.empty() || (view.data() >= buffer.data() &&
                          view.data() + view.size() <= buffer.data() + buffer.size());
}

// The connection's owner of a RequestReader, without sockets or Python.
class StreamOwner {
 public:
  explicit StreamOwner(const Settings& settings) : reader_(reader_settings(settings)) {}

  void feed(std::string_view bytes) {
    if (dead_) return;
    reader_.append(bytes);
    advance();
  }

  // End of stream (the client closed its sending side).
  void finish() {
    if (dead_ || !reader_.reading_body()) return;
    if (reader_.end_of_stream() == RequestReader::Event::failed) return fail();
    current_.truncated = true;
    complete();
  }

  const std::vector<Event>& events() const { return events_; }
  // Waiting for more of a head that has begun, when the stream ended.
  bool mid_head() const { return !dead_ && reader_.reading_head() && !reader_.idle(); }

 private:
  const RequestReader::Settings& reader_settings(const Settings& settings) {
    settings_.parser = &settings.parser;
    settings_.proxy = settings.proxy;
    settings_.peer_trusted = settings.trusted;
    settings_.proxy_sender_allowed = true;
    settings_.body_limit = settings.body_limit;
    return settings_;
  }

  void advance() {
    for (;;) {
      switch (reader_.advance(&append_payload, &current_.body)) {
        case RequestReader::Event::need_bytes:
          return;
        case RequestReader::Event::head:
          take_head();
          continue;
        case RequestReader::Event::complete:
          complete();
          continue;
        case RequestReader::Event::failed:
          return fail();
      }
    }
  }

  void take_head() {
    const Request& request = reader_.request();
    const std::string_view buffer = reader_.input().view();  // the head buffer until the body
    for (std::string_view view : {request.method, request.target, request.query}) {
      if (!inside(view, buffer)) std::abort();
    }
    for (const Header& header : request.headers) {
      if (!inside(header.name, buffer) || !inside(header.value, buffer)) std::abort();
    }
    current_ = Event{};
    current_.method = request.method;
    current_.target = request.target;
    current_.fields = request.headers.size();
    current_.minor = request.version_minor;
    current_.keep_alive = request.keep_alive;
  }

  static void append_payload(void* body, std::string_view payload) {
    static_cast<std::string*>(body)->append(payload);
  }

  void fail() {
    Event event;
    event.error = true;
    event.code = reader_.error();
    events_.push_back(event);
    dead_ = true;  // the connection answers and closes: nothing more is parsed
  }

  // A request is ready for the app; the bytes after it start the next head.
  void complete() {
    const Request& request = reader_.request();
    if (settings_.body_limit != 0 && current_.body.size() > settings_.body_limit) std::abort();
    if (request.framing == BodyFraming::content_length && !current_.truncated &&
        current_.body.size() != request.content_length) {
      std::abort();
    }
    events_.push_back(current_);
    current_ = Event{};
    reader_.next_request();
  }

  RequestReader::Settings settings_;
  RequestReader reader_;
  Event current_;
  std::vector<Event> events_;
  bool dead_ = false;
};

Settings settings_from(std::uint8_t bits, std::uint8_t more) {
  Settings settings;
  settings.parser = monoceros::fuzz::parser_options_from(bits);
  settings.proxy = static_cast<ProxyProtocolMode>(more & 3);
  settings.trusted = more & 4;
  settings.body_limit = (more & 8) ? 64 : 0;
  return settings;
}

struct Run {
  std::vector<Event> events;
  bool mid_head = false;
};

// Feeds the stream in pieces whose sizes come from `seed` (0: all at once), each piece a heap
// copy of exactly its size so ASan sees any read past it.
Run read_stream(const Settings& settings, std::string_view stream, std::uint32_t seed) {
  StreamOwner reader(settings);
  std::size_t offset = 0;
  while (offset < stream.size()) {
    std::size_t piece = stream.size() - offset;
    if (seed != 0) {
      seed = seed * 1103515245u + 12345u;
      piece = std::min<std::size_t>(piece, 1 + (seed >> 16) % 97);
    }
    std::vector<char> copy(stream.data() + offset, stream.data() + offset + piece);
    reader.feed(std::string_view(copy.data(), copy.size()));
    offset += piece;
  }
  reader.finish();
  return {reader.events(), reader.mid_head()};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  const Settings settings = settings_from(data[0], data[1]);
  const std::string_view stream(reinterpret_cast<const char*>(data + 3), size - 3);
  const Run whole = read_stream(settings, stream, 0);
  const Run split = read_stream(settings, stream, 1u + data[2]);
  if (split.events == whole.events) return 0;
  // A bad octet in a head line that has not ended yet may be reported only once the line
  // ends (see parser_fuzz): read in pieces, such a stream can end still waiting for the head.
  // Deferred is fine; anything else (another request, another body, another error) is not.
  const bool deferred = split.mid_head && !whole.events.empty() && whole.events.back().error &&
                        split.events.size() + 1 == whole.events.size() &&
                        std::equal(split.events.begin(), split.events.end(), whole.events.begin());
  if (!deferred) std::abort();
  return 0;
}
