// libFuzzer target: the chunked decoder must never crash, and must give the same payload and
// status whether the body arrives whole or in pieces.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "http/chunked.hpp"

using namespace monoceros::http;

namespace {

void append(void* context, std::string_view payload) {
  static_cast<std::string*>(context)->append(payload);
}

struct Outcome {
  ChunkedStatus status = ChunkedStatus::partial;
  ParseError error = ParseError::none;
  std::size_t consumed = 0;
  std::string payload;
};

// Feeds `input` in pieces of `piece` bytes (0: whole), each piece a separate heap copy so ASan
// catches any read past it.
Outcome decode(std::string_view input, std::size_t piece) {
  ChunkedDecoder decoder;
  Outcome outcome;
  std::size_t offset = 0;
  while (offset < input.size() || (input.empty() && offset == 0)) {
    const std::size_t length =
        piece == 0 ? input.size() - offset : std::min(piece, input.size() - offset);
    std::vector<char> copy(input.data() + offset, input.data() + offset + length);
    const ChunkedResult result =
        decoder.feed(std::string_view(copy.data(), copy.size()), &append, &outcome.payload);
    if (result.consumed > length) std::abort();
    outcome.status = result.status;
    outcome.error = result.error;
    if (result.status != ChunkedStatus::partial) {
      outcome.consumed = offset + result.consumed;
      return outcome;
    }
    offset += length;
    if (input.empty()) break;
  }
  outcome.consumed = input.size();
  return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t piece = 1 + data[0] % 7;
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const Outcome whole = decode(input, 0);
  const Outcome split = decode(input, piece);
  // Where an error is noticed and what was delivered before it may depend on the pieces; the
  // verdict may not, and a complete body must be identical.
  if (whole.status != split.status) std::abort();
  if (whole.status == ChunkedStatus::error && whole.error != split.error) std::abort();
  if (whole.status == ChunkedStatus::complete &&
      (whole.consumed != split.consumed || whole.payload != split.payload)) {
    std::abort();
  }
  return 0;
}
