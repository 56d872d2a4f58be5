// Over-read tests: every input ends on the last byte of a readable page followed by a PROT_NONE
// page, so reading one byte past buffer.size() crashes the test (picohttpparser's technique).
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "check.hpp"
#include "http/http_test_support.hpp"

using namespace monoceros::http;

namespace {

// A writable region whose end touches an inaccessible page.
class GuardedRegion {
 public:
  explicit GuardedRegion(std::size_t capacity) {
    page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    readable_ = (capacity + page_ - 1) / page_ * page_;
    if (readable_ == 0) readable_ = page_;
    void* map = mmap(nullptr, readable_ + page_, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) return;
    base_ = static_cast<char*>(map);
    if (mprotect(base_ + readable_, page_, PROT_NONE) != 0) {
      munmap(base_, readable_ + page_);
      base_ = nullptr;
    }
  }
  ~GuardedRegion() {
    if (base_ != nullptr) munmap(base_, readable_ + page_);
  }
  GuardedRegion(const GuardedRegion&) = delete;
  GuardedRegion& operator=(const GuardedRegion&) = delete;

  bool ok() const { return base_ != nullptr; }
  std::size_t capacity() const { return readable_; }

  // Copies `bytes` so that its last byte is the last readable byte; returns the copy.
  std::span<char> place(std::string_view bytes) {
    char* start = base_ + readable_ - bytes.size();
    if (!bytes.empty()) std::memcpy(start, bytes.data(), bytes.size());
    return {start, bytes.size()};
  }

 private:
  std::size_t page_ = 4096;
  std::size_t readable_ = 0;
  char* base_ = nullptr;
};

ParserOptions lenient_options() {
  ParserOptions o;
  o.permit_obsolete_folding = true;
  o.strip_header_spaces = true;
  o.permit_unconventional_http_method = true;
  o.permit_unconventional_http_version = true;
  o.casefold_http_method = true;
  o.require_host = false;
  o.header_map = UnderscoreHeaders::dangerous;
  return o;
}

std::vector<std::string> request_inputs() {
  std::vector<std::string> inputs = {
      "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
      "\r\n\r\nPOST /p?q#f HTTP/1.1\r\nHost: [::1]:8080\r\nContent-Length: 5\r\n\r\nhello",
      "GET http://user:pw@h:80/x?y HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n",
      "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n",
      "OPTIONS * HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nX: one\r\n two\r\n\tthree\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length : 3\r\n\r\nxyz",
      "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
      "get / HTTP/1.1\r\nHost: a\r\nX_Y: z\r\n\r\n",
      "GET / HTTP/2.0\r\n\r\n",
      "GET /\x80 HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\n\rX",
      "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: h:\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: %4\r\n\r\n",
      "GET / HTTP/1.1\r\nExpect: 100-continu\r\n\r\n",
      "GET / HTTP/1.1\r\nConnection: close,\r\n\r\n",
      "GET / HTTP/1.1\r\nX: " + std::string(9000, 'v') + "\r\n\r\n",
      "GET /" + std::string(9000, 'p') + " HTTP/1.1\r\n\r\n",
      std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11),
      "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
      "GET / HTTP/1.1\r",
      "GET / HTTP/1.1\r\nHost",
      "\r",
      "",
  };
  // Mutations of one request: each octet replaced by structural or hostile octets.
  const std::string base =
      "POST http://h:1/a?b#c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nX: v\r\n\r\n";
  for (std::size_t i = 0; i < base.size(); ++i) {
    for (char c : {'\r', '\n', ' ', ':', '\0', '\xff', '[', '_'}) {
      std::string mutated = base;
      mutated[i] = c;
      inputs.push_back(mutated);
    }
  }
  return inputs;
}

std::vector<std::string> chunked_inputs() {
  return {
      "5\r\nhello\r\n6\r\n world\r\n0\r\nVary: *\r\nContent-Type: text/plain\r\n\r\n",
      "000005;a=\"b\\\"c\";d=e ; f\r\nhello\r\n0;x\r\n\r\n",
      "A\r\n0123456789\r\n0\r\n\r\n",
      "5\r\nhello\r\n6_0\r\n world\r\n",
      "5 \r\n",
      "5;\r\n",
      "5;a=\"unbalanced\r\n",
      "5\r\nhelloXX0\r\n\r\n",
      "0\r\nHost: x\r\n\r\n",
      "0\r\nX: a\r\n b\r\n\r\n",
      "0\r\n\n",
      "0\r\nX: " + std::string(9000, 'v') + "\r\n\r\n",
      "5;e=" + std::string(5000, 'a') + "\r\n",
      "FFFFFFFFFFFFFFFF0\r\n",
      "0\r\n",
      "0\r\nX:",
      "",
  };
}

}  // namespace

TEST(page_guard_parser_all_prefixes) {
  GuardedRegion region(16384);
  CHECK(region.ok());
  if (!region.ok()) return;
  const ParserOptions strict;
  const ParserOptions lenient = lenient_options();
  std::size_t runs = 0;
  for (const std::string& input : request_inputs()) {
    for (const ParserOptions* options : {&strict, &lenient}) {
      Request reused;  // carries the resume hint from prefix to prefix, like a connection
      for (std::size_t size = 0; size <= input.size(); ++size) {
        const std::span<char> bytes = region.place(std::string_view(input).substr(0, size));
        Request fresh;
        const ParseResult a = parse_request(bytes, *options, true, fresh);
        const std::span<char> again = region.place(std::string_view(input).substr(0, size));
        const ParseResult b = parse_request(again, *options, true, reused);
        if (b.status != ParseStatus::partial) reused.clear();
        CHECK(a.status != ParseStatus::complete || a.consumed <= size);
        CHECK(b.status != ParseStatus::complete || b.consumed <= size);
        ++runs;
      }
    }
  }
  CHECK(runs > 1000);
}

TEST(page_guard_chunked_all_prefixes_and_splits) {
  GuardedRegion first(16384);
  GuardedRegion second(16384);
  CHECK(first.ok() && second.ok());
  if (!first.ok() || !second.ok()) return;
  ParserOptions fold;
  fold.permit_obsolete_folding = true;
  for (const std::string& input : chunked_inputs()) {
    for (const ParserOptions* options :
         {static_cast<const ParserOptions*>(nullptr), static_cast<const ParserOptions*>(&fold)}) {
      // Every prefix, fed whole.
      for (std::size_t size = 0; size <= input.size(); ++size) {
        const std::span<char> bytes = first.place(std::string_view(input).substr(0, size));
        ChunkedDecoder decoder(options);
        std::string payload;
        const ChunkedResult r =
            decoder.feed(std::string_view(bytes.data(), bytes.size()), test::append_sink, &payload);
        CHECK(r.consumed <= size);
      }
      // Every two-piece split, each piece at the end of its own guarded page.
      if (input.size() > 600) continue;
      for (std::size_t cut = 0; cut <= input.size(); ++cut) {
        const std::span<char> a = first.place(std::string_view(input).substr(0, cut));
        const std::span<char> b = second.place(std::string_view(input).substr(cut));
        ChunkedDecoder decoder(options);
        std::string payload;
        const ChunkedResult r1 =
            decoder.feed(std::string_view(a.data(), a.size()), test::append_sink, &payload);
        if (r1.status == ChunkedStatus::partial) {
          decoder.feed(std::string_view(b.data(), b.size()), test::append_sink, &payload);
        }
      }
    }
  }
}

TEST(page_guard_body_after_head_at_page_end) {
  // A complete head whose body pieces end on the guard page too: head parser + decoder in turn.
  GuardedRegion region(4096);
  CHECK(region.ok());
  if (!region.ok()) return;
  const std::string request =
      "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n0\r\nX: y\r\n\r\n";
  const std::span<char> bytes = region.place(request);
  Request out;
  const ParseResult head = parse_request(bytes, ParserOptions{}, false, out);
  CHECK_EQ(head.status, ParseStatus::complete);
  ChunkedDecoder decoder;
  std::string payload;
  const std::string_view body(bytes.data() + head.consumed, bytes.size() - head.consumed);
  for (std::size_t i = 0; i < body.size(); ++i) {
    decoder.feed(body.substr(i, 1), test::append_sink, &payload);
  }
  CHECK_EQ(payload, "hello");
  CHECK_EQ(decoder.trailers().size(), 1u);
}

TEST(page_guard_corpus_files) {
  // The shared corpus, every file through the parser (and the decoder for chunked bodies) at
  // the page end: all prefixes of small files, a stride through big ones.
  const std::filesystem::path corpus = test::corpus_dir();
  if (corpus.empty()) return;  // corpus_test prints the skip notice
  GuardedRegion head_region(65536);
  GuardedRegion body_region(65536);
  CHECK(head_region.ok() && body_region.ok());
  if (!head_region.ok() || !body_region.ok()) return;
  const ParserOptions strict;
  const ParserOptions lenient = lenient_options();
  std::size_t files = 0;
  for (const char* group : {"valid", "invalid"}) {
    for (const auto& entry : std::filesystem::directory_iterator(corpus / group)) {
      if (entry.path().extension() != ".http") continue;
      std::ifstream in(entry.path(), std::ios::binary);
      const std::string bytes((std::istreambuf_iterator<char>(in)),
                              std::istreambuf_iterator<char>());
      if (bytes.size() > head_region.capacity()) continue;
      ++files;
      const std::size_t stride = bytes.size() <= 2048 ? 1 : 97;
      for (std::size_t size = 0; size <= bytes.size(); size += stride) {
        for (const ParserOptions* options : {&strict, &lenient}) {
          const std::span<char> head = head_region.place(std::string_view(bytes).substr(0, size));
          Request request;
          const ParseResult r = parse_request(head, *options, false, request);
          if (r.status != ParseStatus::complete || request.framing != BodyFraming::chunked) {
            continue;
          }
          const std::span<char> body =
              body_region.place(std::string_view(bytes).substr(r.consumed, size - r.consumed));
          ChunkedDecoder decoder(options);
          std::string payload;
          decoder.feed(std::string_view(body.data(), body.size()), test::append_sink, &payload);
        }
      }
    }
  }
  CHECK(files > 100);
}
