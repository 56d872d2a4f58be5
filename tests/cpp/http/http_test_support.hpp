// Helpers shared by the HTTP unit tests: parse a string, decode a chunked body, show enums.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/chunked.hpp"
#include "http/errors.hpp"
#include "http/parser.hpp"
#include "http/request.hpp"

namespace monoceros::http {

// Printable names so CHECK_EQ failures say which error, not a number.
inline const char* error_name(ParseError e) {
  static const char* const names[] = {"none",
                                      "invalid_request_line",
                                      "invalid_method",
                                      "invalid_target",
                                      "invalid_version",
                                      "unsupported_version",
                                      "request_line_too_long",
                                      "invalid_header_name",
                                      "invalid_header",
                                      "obsolete_folding",
                                      "too_many_headers",
                                      "header_too_large",
                                      "missing_host",
                                      "invalid_host",
                                      "duplicate_header",
                                      "invalid_content_length",
                                      "conflicting_framing",
                                      "invalid_transfer_encoding",
                                      "unsupported_transfer_coding",
                                      "invalid_chunk_size",
                                      "invalid_chunk_extension",
                                      "chunk_missing_terminator",
                                      "invalid_trailer",
                                      "expectation_failed",
                                      "invalid_underscore_header",
                                      "invalid_scheme_headers",
                                      "configuration_problem",
                                      "invalid_proxy_line",
                                      "forbidden_proxy",
                                      "body_too_large",
                                      "body_storage_failed",
                                      "body_spool_full"};
  const auto i = static_cast<std::size_t>(e);
  return i < sizeof names / sizeof names[0] ? names[i] : "?";
}

inline std::ostream& operator<<(std::ostream& out, ParseError e) {
  return out << error_name(e);
}
inline std::ostream& operator<<(std::ostream& out, ParseStatus s) {
  return out << (s == ParseStatus::complete  ? "complete"
                 : s == ParseStatus::partial ? "partial"
                                             : "error");
}
inline std::ostream& operator<<(std::ostream& out, ChunkedStatus s) {
  return out << (s == ChunkedStatus::complete  ? "complete"
                 : s == ChunkedStatus::partial ? "partial"
                                               : "error");
}
inline std::ostream& operator<<(std::ostream& out, BodyFraming f) {
  return out << (f == BodyFraming::none             ? "none"
                 : f == BodyFraming::content_length ? "content_length"
                                                    : "chunked");
}

}  // namespace monoceros::http

namespace monoceros::http::test {

#ifndef MONOCEROS_DEFAULT_SHARED_DIR
#define MONOCEROS_DEFAULT_SHARED_DIR "../shared"
#endif

// The shared request corpus: $MONOCEROS_SHARED_DIR/http-corpus, else the "shared" folder beside
// the repository (a compile definition). Empty if it is not there.
inline std::filesystem::path shared_dir() {
  const char* env = std::getenv("MONOCEROS_SHARED_DIR");
  return env != nullptr && *env != '\0' ? std::filesystem::path(env)
                                        : std::filesystem::path(MONOCEROS_DEFAULT_SHARED_DIR);
}

inline std::filesystem::path corpus_dir() {
  const std::filesystem::path shared = shared_dir();
  const std::filesystem::path corpus = shared / "http-corpus";
  std::error_code ec;
  if (!std::filesystem::is_directory(corpus / "valid", ec) ||
      !std::filesystem::is_directory(corpus / "invalid", ec)) {
    return {};
  }
  return corpus;
}

// A request parsed from its own copy of the bytes (views stay valid while this lives).
struct Parsed {
  explicit Parsed(std::string_view text, const ParserOptions& options = {}, bool trusted = false)
      : bytes(text.begin(), text.end()) {
    result = parse_request(std::span<char>(bytes.data(), bytes.size()), options, trusted, request);
  }
  Parsed(const Parsed&) = delete;
  Parsed& operator=(const Parsed&) = delete;

  bool complete() const { return result.status == ParseStatus::complete; }
  bool partial() const { return result.status == ParseStatus::partial; }
  ParseError error() const { return result.error; }
  int status() const { return describe(result.error).status; }
  // The i-th header, or an empty one when there are fewer (a failed parse must not crash the test).
  Header field(std::size_t i) const {
    return i < request.headers.size() ? request.headers[i] : Header{"<absent>", "<absent>"};
  }
  std::string_view header(std::string_view name, std::size_t nth = 0) const {
    for (const Header& h : request.headers) {
      if (h.name == name && nth-- == 0) return h.value;
    }
    return "<absent>";
  }

  std::vector<char> bytes;
  Request request;
  ParseResult result;
};

// The error of a request expected to fail ("none" if it did not).
inline ParseError error_of(std::string_view text, const ParserOptions& options = {},
                           bool trusted = false) {
  Parsed p(text, options, trusted);
  return p.result.status == ParseStatus::error ? p.result.error : ParseError::none;
}

inline ParseStatus status_of(std::string_view text, const ParserOptions& options = {}) {
  Parsed p(text, options);
  return p.result.status;
}

// Feeds `text` to parse_request as a growing buffer (one Request reused), `step` bytes more each
// call; returns the first non-partial result (or the last partial one).
// Pass `storage` to keep the bytes (and so the views in `keep`) alive after the call.
inline ParseResult parse_growing(std::string_view text, std::size_t step,
                                 const ParserOptions& options = {}, Request* keep = nullptr,
                                 std::vector<char>* storage = nullptr) {
  std::vector<char> local_bytes;
  std::vector<char>& bytes = storage != nullptr ? *storage : local_bytes;
  Request local;
  Request& request = keep != nullptr ? *keep : local;
  ParseResult result;
  std::size_t given = 0;
  while (true) {
    given = std::min(text.size(), given + step);
    bytes.assign(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(given));
    result = parse_request(std::span<char>(bytes.data(), bytes.size()), options, false, request);
    if (result.status != ParseStatus::partial || given == text.size()) return result;
  }
}

// The outcome of decoding a chunked body.
struct Decoded {
  ChunkedStatus status = ChunkedStatus::partial;
  ParseError error = ParseError::none;
  std::size_t consumed = 0;  // total input octets used across all feeds
  std::string payload;
  std::vector<std::pair<std::string, std::string>> trailers;
  std::uint64_t body_size = 0;

  bool operator==(const Decoded& o) const {
    return status == o.status && error == o.error && payload == o.payload &&
           trailers == o.trailers && (status != ChunkedStatus::complete || consumed == o.consumed);
  }
};

inline void append_sink(void* context, std::string_view payload) {
  static_cast<std::string*>(context)->append(payload);
}

// Decodes `body` fed in pieces that end at the offsets in `cuts` (ascending, then the rest).
inline Decoded decode_pieces(std::string_view body, const std::vector<std::size_t>& cuts,
                             const ParserOptions* options = nullptr) {
  ChunkedDecoder decoder(options);
  Decoded out;
  std::size_t start = 0;
  auto feed = [&](std::size_t end) {
    const ChunkedResult r =
        decoder.feed(body.substr(start, end - start), append_sink, &out.payload);
    out.status = r.status;
    out.error = r.error;
    out.consumed += r.consumed;
    start = end;
    return r.status == ChunkedStatus::partial;
  };
  bool going = true;
  for (std::size_t cut : cuts) {
    if (!going) break;
    if (cut > start && cut <= body.size()) going = feed(cut);
  }
  if (going) feed(body.size());
  out.trailers = decoder.trailers();
  out.body_size = decoder.body_size();
  return out;
}

inline Decoded decode(std::string_view body, const ParserOptions* options = nullptr) {
  return decode_pieces(body, {}, options);
}

inline Decoded decode_bytewise(std::string_view body, const ParserOptions* options = nullptr) {
  std::vector<std::size_t> cuts;
  for (std::size_t i = 1; i < body.size(); ++i)
    cuts.push_back(i);
  return decode_pieces(body, cuts, options);
}

}  // namespace monoceros::http::test
