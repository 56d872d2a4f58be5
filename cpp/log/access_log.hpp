// AccessLog: gunicorn's access_log_format (Python %-style atoms) compiled once, applied per
// request without touching Python.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace monoceros::log {

// Looks up a "{name}i" / "{name}o" / "{name}e" atom; `name` is already lower-cased. Returns
// false when absent (the atom prints "-").
using AtomLookup = bool (*)(const void* context, std::string_view name, std::string& out);

// Everything an access line can show about one request, as views valid during format().
struct AccessRecord {
  std::string_view remote_addr;          // h
  std::string_view method;               // m
  std::string_view raw_uri;              // part of r
  std::string_view protocol;             // H, e.g. "HTTP/1.1"
  std::string_view path_info;            // U
  std::string_view query;                // q
  int status = 0;                        // s
  std::uint64_t bytes_sent = 0;          // B, b
  std::string_view referer;              // f
  std::string_view user_agent;           // a
  std::string_view authorization;        // source of u (Basic credentials)
  std::int64_t duration_us = 0;          // T, M, D, L
  int pid = 0;                           // p
  const void* context = nullptr;         // handed to the lookups
  AtomLookup request_header = nullptr;   // {x}i
  AtomLookup response_header = nullptr;  // {x}o
  AtomLookup environ_value = nullptr;    // {x}e
};

class AccessLog {
 public:
  // Compiles `format` (e.g. '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"').
  explicit AccessLog(std::string_view format);

  // Appends one formatted line (without a newline) to `out`.
  void format(const AccessRecord& record, std::string& out) const;

  bool uses(char atom) const noexcept;

 private:
  enum class Kind : std::uint8_t { literal, atom, request_header, response_header, environ };
  struct Piece {
    Kind kind;
    char atom;         // for Kind::atom
    std::string text;  // literal text, or the lower-cased {name}
  };
  std::vector<Piece> pieces_;
};

// "[28/Nov/2026:15:53:58 +0000]": gunicorn's %(t)s, in local time.
std::string access_time(std::time_t when);

}  // namespace monoceros::log
