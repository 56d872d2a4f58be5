// WorkerConfig: the settings a worker acts on, resolved once before its loop starts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "http/parser.hpp"
#include "http/proxy_protocol.hpp"
#include "log/statsd.hpp"
#include "wsgi/environ.hpp"
#include "wsgi/response.hpp"

namespace monoceros::worker {

// Where the app runs and how connections live (gunicorn's worker_class, resolved once).
enum class WorkerKind : std::uint8_t {
  sync,     // one request per connection, then close; the app on the loop's thread
  event,    // keep-alive and pipelining; the app called inline on the loop's thread
  gthread,  // keep-alive; the app on `threads` Python threads beside the loop
};

// Event and gthread workers keep connections open between requests (HTTP/1.1 keep-alive, and
// HTTP/1.0 with Connection: keep-alive) and answer pipelined requests in order; the sync
// worker closes every connection after its response, as gunicorn's does.
constexpr bool keeps_connections(WorkerKind kind) noexcept {
  return kind != WorkerKind::sync;
}

// Every setting here is filled by monoceros.core_settings from the settings table, which holds
// the defaults; members are only value-initialised so that no default is written twice.
struct WorkerConfig {
  WorkerKind kind{};
  http::ParserOptions parser;
  std::vector<std::string> forwarded_allow_ips;
  http::ProxyProtocolMode proxy_protocol{};
  std::vector<std::string> proxy_allow_ips;
  // gthread: the app runs on this many Python threads while the loop, without the GIL,
  // reads requests and writes responses; 0 for the other kinds.
  int threads{};
  double keepalive{};            // seconds an idle kept-alive connection waits for its next request
  std::uint64_t max_requests{};  // stop gracefully after this many requests; 0: never
  int worker_connections{};      // open connections per worker; accepting pauses beyond it
  double timeout{};              // heartbeat period is timeout/2; also the idle limit while a
                                 // request is read or a response waits for the client
  std::uint64_t limit_request_body{};  // 413 above it; 0: no limit (gunicorn has none)
  // Larger bodies are spooled to tmp_upload_dir. Not a setting: the value lives here.
  std::size_t body_memory_limit = 1 << 20;
  std::string tmp_upload_dir;
  // Disk this worker's spooled bodies may use at once: bytes, 0 for no limit, or -1 for a
  // quarter of the free space in the spool directory at startup, shared by `workers`.
  std::int64_t body_spool_limit{};
  int workers{};
  // Pause the app's iterator above this many queued bytes. Not a setting either.
  std::size_t output_high_water = 512 * 1024;
  wsgi::EnvironSettings environ;
  wsgi::ResponseSettings response;
  std::string access_log_format;
  PyObject* access_log = nullptr;  // callable(line) or null when access logging is off
  // StatsD per-request metrics (gunicorn.requests, .request.duration, .request.status.N).
  std::optional<log::StatsdTarget> statsd;
  std::string statsd_prefix;
  std::string dogstatsd_tags;
  // Server hooks (monoceros.hooks); null when the user set none, so they cost nothing.
  PyObject* pre_request = nullptr;   // callable(environ); raising makes the request a 500
  PyObject* post_request = nullptr;  // callable(environ, status, headers, sent, length)
};

}  // namespace monoceros::worker
