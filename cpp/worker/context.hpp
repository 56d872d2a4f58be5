// WorkerContext: what every connection of one worker shares (loop, app, config, caches).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "http/response_head.hpp"
#include "log/access_log.hpp"
#include "log/statsd.hpp"
#include "net/address_matcher.hpp"
#include "net/event_loop.hpp"
#include "net/listener.hpp"
#include "util/spool_budget.hpp"
#include "worker/config.hpp"
#include "wsgi/environ.hpp"
#include "wsgi/python.hpp"

namespace monoceros::worker {

// What an event's tag points to (the `kind` of its net::LoopTag).
enum class TagKind : std::uint8_t { listener, wakeup, app_runtime, connection };
constexpr net::LoopTag loop_tag(TagKind kind) noexcept {
  return {static_cast<std::uint8_t>(kind)};
}

struct WorkerContext {
  const WorkerConfig& config;
  net::EventLoop& loop;
  wsgi::EnvironBuilder& environ;
  net::AddressMatcher& trusted_proxies;  // forwarded_allow_ips
  net::AddressMatcher& proxy_senders;    // proxy_allow_ips
  PyObject* app;
  std::optional<log::AccessLog> access_log;
  std::optional<log::StatsdClient> statsd;
  http::HttpDate date;  // app threads only (the GIL serialises them)
  std::atomic<std::uint64_t> requests = 0;
  std::atomic<bool> stopping = false;  // a graceful stop began: no connection is kept alive
  // The worker's heartbeat (monotonic ns), beaten by the loop, and by a write() call while it
  // waits (a bounded wait, not a stuck worker). Null when the worker has none.
  std::atomic<std::int64_t>* heartbeat = nullptr;
  // The disk this worker's spooled request bodies may use at once (body_spool_limit). Shared:
  // a body (inside a wsgi.input object an app may keep) can outlive the worker's loop.
  std::shared_ptr<util::SpoolBudget> spool_budget;
  // Where spool files go (tmp_upload_dir, else $TMPDIR or /tmp), resolved once.
  std::string spool_directory;
  // Fixed by the worker's app runtime (AppRuntime): whether the app runs on the loop's
  // thread, and how connections are registered with the loop.
  bool app_inline = true;
  net::Trigger connection_trigger = net::Trigger::level;
};

}  // namespace monoceros::worker
