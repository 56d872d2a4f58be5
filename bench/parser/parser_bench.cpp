// Microbenchmark of the HTTP/1.1 request parser: ns per parsed request head.
//
// The request is what a current desktop browser sends for a page (about 500 bytes, 12 header
// fields). Parsing must stay a small part of a request's total cost (issue 3: under 5% of the
// ~7 us the kernel alone spends on a keep-alive request here), so the figure printed is also
// given as that share.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "http/parser.hpp"

namespace {

using monoceros::http::ParserOptions;
using monoceros::http::ParseStatus;
using monoceros::http::Request;

const std::string kBrowserRequest =
    "GET /articles/2026/11/how-to-deploy-flask?utm_source=newsletter&page=2 HTTP/1.1\r\n"
    "Host: www.example.com\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n"
    "Accept-Language: en-GB,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Referer: https://www.example.com/articles/\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: sessionid=6f1c2a9be0d34c7f8a5e; csrftoken=Qm9vbGVhbkZsYWdz; theme=dark\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "\r\n";

const std::string kCurlRequest =
    "GET / HTTP/1.1\r\nHost: 127.0.0.1:8000\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";

// Median ns per parse over several timed batches, each of `iterations` parses.
double ns_per_parse(const std::string& text, long iterations) {
  const ParserOptions options;
  std::vector<char> buffer(text.begin(), text.end());
  Request request;
  std::vector<double> batches;
  for (int batch = 0; batch < 7; ++batch) {
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; i < iterations; ++i) {
      // Strict parsing never writes into the buffer (only folding does), so the same bytes
      // can be parsed again; a fresh copy per parse would measure memcpy as well.
      const auto result = monoceros::http::parse_request(buffer, options, false, request);
      if (result.status != ParseStatus::complete) {
        std::fprintf(stderr, "parse failed: status %d\n", static_cast<int>(result.status));
        std::exit(1);
      }
    }
    const auto elapsed = std::chrono::steady_clock::now() - start;
    batches.push_back(std::chrono::duration<double, std::nano>(elapsed).count() /
                      static_cast<double>(iterations));
  }
  std::sort(batches.begin(), batches.end());
  return batches[batches.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const long iterations = argc > 1 ? std::atol(argv[1]) : 200000;
  constexpr double kKernelNsPerRequest = 6500.0;  // measured on this machine (keep-alive)
  struct Case {
    const char* name;
    const std::string* text;
  };
  for (const Case& c :
       {Case{"browser page request", &kBrowserRequest}, Case{"curl request", &kCurlRequest}}) {
    const double ns = ns_per_parse(*c.text, iterations);
    std::printf("%-22s %4zu bytes  %7.1f ns/request  %5.2f%% of the kernel's ~6.5 us\n", c.name,
                c.text->size(), ns, 100.0 * ns / kKernelNsPerRequest);
  }
  return 0;
}
