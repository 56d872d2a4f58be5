// StatsdClient: gunicorn's StatsD metrics, sent as datagrams without ever blocking.
//
// gunicorn's statsd logger sends one datagram per metric: `<prefix><name>:<value>|<type>`,
// counters with a `|@1.0` sample rate, and `|#<tags>` when DogStatsD tags are set. Metrics are
// best effort: a full socket buffer or an absent server drops the datagram, never the request.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "util/unique_fd.hpp"

namespace monoceros::log {

// Where metrics go: statsd_host as monoceros.core_settings reads it (port 8125 is the
// settings table's default, not this struct's).
struct StatsdTarget {
  std::string host;  // for UDP; resolved once, when the client is opened
  int port{};
  std::string unix_path;  // a unix datagram socket instead, when set
};

class StatsdClient {
 public:
  // Connects a datagram socket to the target. `prefix` is used as given (the caller adds the
  // trailing dot); `tags` is the DogStatsD tag list, or empty. On failure returns nullopt and
  // sets `error` to one line.
  static std::optional<StatsdClient> open(const StatsdTarget& target, std::string prefix,
                                          std::string tags, std::string& error);

  void increment(std::string_view name, std::int64_t value);  // counter
  void gauge(std::string_view name, std::int64_t value);
  void timer(std::string_view name, double milliseconds);
  void histogram(std::string_view name, std::int64_t value);

  // The datagram for one metric (exposed for tests). `type` is "c", "g", "ms" or "h".
  std::string format(std::string_view name, std::string_view value, std::string_view type) const;

 private:
  StatsdClient(util::unique_fd fd, std::string prefix, std::string tags);
  void send(std::string_view name, std::string_view value, std::string_view type);

  util::unique_fd fd_;
  std::string prefix_;
  std::string tags_;
};

// Milliseconds as gunicorn prints them: up to three decimals, trailing zeros dropped but at
// least one decimal kept ("12.5", "3.0", "0.125").
std::string format_milliseconds(double milliseconds);

}  // namespace monoceros::log
