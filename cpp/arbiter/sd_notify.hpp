// sd_notify: tells systemd about the master's state through the NOTIFY_SOCKET datagram socket.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace monoceros::arbiter {

// Where notifications go: NOTIFY_SOCKET is a socket file path, or "@name" for a socket in the
// abstract namespace. Empty when the variable is unset (not run by systemd, or not Type=notify).
std::string notify_socket_from_environment();

// Sends `state` (newline-separated "KEY=value" lines, see sd_notify(3)) as one datagram to
// `socket`, without blocking. Returns false with a one-line `error` when it could not be sent;
// the server carries on either way, as systemd's own helper does.
bool send_notification(const std::string& socket, std::string_view state, std::string& error);

// READY=1, RELOADING=1 (with MONOTONIC_USEC, as Type=notify-reload expects) and STOPPING=1 to
// $NOTIFY_SOCKET; nothing when it is unset. A failure is only worth a debug line.
void notify_ready(std::string_view status);
// READY=1 with MAINPID=`pid`: the new master of a binary upgrade (SIGUSR2) tells systemd that
// the service's main process is now this one, so the old master may exit without systemd
// taking the service for dead (the unit needs NotifyAccess=all to take it from a child).
void notify_ready_as_main(long pid, std::string_view status);
void notify_reloading(std::string_view status);
void notify_stopping(std::string_view status);

// The message notify_reloading sends, given CLOCK_MONOTONIC in microseconds.
std::string reloading_message(long long monotonic_usec, std::string_view status);

}  // namespace monoceros::arbiter
