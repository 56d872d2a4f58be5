// ChunkedDecoder: incremental decoder for the chunked transfer coding (RFC 9112 section 7.1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/errors.hpp"
#include "http/parser.hpp"

namespace monoceros::http {

enum class ChunkedStatus : std::uint8_t { partial, complete, error };

struct ChunkedResult {
  ChunkedStatus status = ChunkedStatus::partial;
  ParseError error = ParseError::none;  // set when status == error
  std::size_t consumed = 0;             // input bytes used (all of them unless complete/error)
};

// Receives decoded payload bytes in order. A plain function pointer plus context keeps the
// decoder free of allocation and templates.
using ChunkSink = void (*)(void* context, std::string_view payload);

// A plain struct; value-initialise it (ChunkedDecoder d{};) or call reset() per body.
// Feed it the bytes after the request head, in as many pieces as they arrive.
class ChunkedDecoder {
 public:
  explicit ChunkedDecoder(const ParserOptions* options = nullptr) noexcept : options_(options) {}

  // Decodes as much of `input` as possible, passing payload to sink(context, bytes).
  // complete: the last chunk and the trailer section (with its final CRLF) were read;
  //           `consumed` is where the next request starts.
  // partial: every input byte was used; feed more.
  // error: the body is malformed; nothing more must be parsed from the connection.
  ChunkedResult feed(std::string_view input, ChunkSink sink, void* context);

  void reset() noexcept;

  // Payload bytes allowed in one body; a chunk-size that would pass it ends the body with
  // ParseError::body_too_large before any of that chunk is read. 0: no limit. Kept by reset().
  void set_body_limit(std::uint64_t limit) noexcept { body_limit_ = limit; }

  std::uint64_t body_size() const noexcept { return body_size_; }
  // Trailer fields (name as received, value trimmed) once complete.
  const std::vector<std::pair<std::string, std::string>>& trailers() const noexcept {
    return trailers_;
  }

 private:
  // Implementation-defined state; kept small and zero-initialisable.
  const ParserOptions* options_ = nullptr;  // limits for trailers; defaults when null
  std::uint8_t state_ = 0;
  std::uint64_t chunk_remaining_ = 0;
  std::uint64_t body_size_ = 0;
  std::uint64_t body_limit_ = 0;
  std::string line_;  // the chunk-size or trailer line being assembled (bounded)
  std::vector<std::pair<std::string, std::string>> trailers_;
  ParseError error_ = ParseError::none;  // repeated by every feed() after an error
  std::uint8_t size_digits_ = 0;         // HEXDIG in the current chunk-size (at most 16)
  std::uint32_t line_length_ = 0;        // octets of the current chunk-size line (capped)
  std::uint32_t trailer_fields_ = 0;     // trailer field lines so far, dropped ones included
  std::uint64_t trailer_bytes_ = 0;      // octets of the trailer section so far
  std::uint64_t field_bytes_ = 0;        // octets of the last trailer field (obs-fold lines)
  bool last_trailer_kept_ = false;       // whether an obs-fold line extends a kept trailer

  ParseError step_size_line(char c) noexcept;
  ParseError end_size_line() noexcept;
  ParseError take_trailer_line();
};

}  // namespace monoceros::http
