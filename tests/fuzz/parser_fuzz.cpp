// libFuzzer target: parse_request must never crash, read out of bounds or disagree with itself
// when the same bytes arrive in two pieces.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "fuzz_options.hpp"
#include "http/parser.hpp"
#include "http/proxy_protocol.hpp"

using namespace monoceros::http;

namespace {

bool inside(std::string_view view, const char* begin, std::size_t size) {
  return view.empty() || (view.data() >= begin && view.data() + view.size() <= begin + size);
}

void check_views(const Request& request, const char* begin, std::size_t size) {
  for (std::string_view view : {request.method, request.target, request.query, request.fragment}) {
    if (!inside(view, begin, size)) std::abort();
  }
  // An absolute-form target without a path gets the constant "/" (RFC 9112 §3.2.2).
  if (!inside(request.path, begin, size) && request.path != "/") std::abort();
  for (const Header& header : request.headers) {
    if (!inside(header.name, begin, size) || !inside(header.value, begin, size)) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const ParserOptions options = monoceros::fuzz::parser_options_from(data[0]);
  const bool trusted = data[1] & 1;
  // A heap copy of exactly the input size, so ASan sees any over-read.
  std::vector<char> whole(data + 2, data + size);
  std::vector<char> again = whole;

  // The PROXY header parser sees the same bytes first, as the connection layer does.
  ProxyInfo proxy;
  const ProxyResult proxied = parse_proxy_header(std::string_view(whole.data(), whole.size()),
                                                 ProxyProtocolMode::any, proxy);
  if (proxied.consumed > whole.size()) std::abort();

  Request request;
  const ParseResult result = parse_request(whole, options, trusted, request);
  if (result.status == ParseStatus::complete) {
    if (result.consumed == 0 || result.consumed > whole.size()) std::abort();
    check_views(request, whole.data(), whole.size());
  }

  // The same bytes in two pieces (the first piece alone, then all of them) must end the same.
  const std::size_t split = whole.empty() ? 0 : data[1] % (whole.size() + 1);
  Request incremental;
  const ParseResult first =
      parse_request(std::span<char>(again.data(), split), options, trusted, incremental);
  if (first.status == ParseStatus::partial) {
    const ParseResult second = parse_request(again, options, trusted, incremental);
    // Resuming a partial head only looks for the end of the unfinished line (or its limit),
    // so a bad octet inside that line may be reported when the line ends rather than at once.
    // Deferred is fine, missed is not: once the head is terminated, the resumed parse and a
    // fresh parse of the same bytes must both report the same error.
    if (second.status == ParseStatus::partial && result.status == ParseStatus::error) {
      std::vector<char> ended = again;
      for (char c : std::string_view("\r\n\r\n"))
        ended.push_back(c);
      std::vector<char> fresh_copy = ended;
      Request fresh;
      const ParseResult resumed = parse_request(ended, options, trusted, incremental);
      const ParseResult direct = parse_request(fresh_copy, options, trusted, fresh);
      if (resumed.status != ParseStatus::error || direct.status != ParseStatus::error ||
          resumed.error != direct.error) {
        std::abort();
      }
      return 0;
    }
    if (second.status != result.status || second.consumed != result.consumed) std::abort();
    if (second.status == ParseStatus::error && second.error != result.error) std::abort();
  } else if (first.status == ParseStatus::complete && result.status != ParseStatus::complete) {
    std::abort();
  }
  return 0;
}
