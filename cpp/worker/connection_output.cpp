// Connection as the output of its response (wsgi::ResponseOutput): queueing the app's bytes,
// writing them, and keeping memory bounded while a client reads slowly.
#include <algorithm>
#include <cerrno>

#include "util/clock.hpp"
#include "worker/connection.hpp"
#include "wsgi/deferred_release.hpp"
#include "wsgi/gil.hpp"

namespace monoceros::worker {
namespace {

// The most a response's write() calls put on disk for a slow client (nginx's default for its
// proxy temporary files): past it, write() waits for the client.
constexpr std::uint64_t kMaxSpoolBytes = std::uint64_t{1} << 30;

void release_python_object(void* owner) noexcept {
  // The gthread worker's loop finishes writing slow responses without the GIL.
  wsgi::release_reference(static_cast<PyObject*>(owner));
}

}  // namespace

void Connection::queue(std::string bytes) {
  transport_.out().push_owned(std::move(bytes));
}

void Connection::queue_borrowed(PyObject* owner, std::string_view data) {
  Py_INCREF(owner);
  transport_.out().push_borrowed(data, owner, &release_python_object);
}

void Connection::queue_file(PyObject* owner, int fd, std::uint64_t offset, std::uint64_t length) {
  Py_INCREF(owner);
  transport_.out().push_file(fd, offset, length, owner, &release_python_object);
}

bool Connection::flush() {
  // Inside a pipelined batch the bytes wait for the batch's single write, unless they pile up.
  if (batching_ && !congested()) return true;
  return transport_.flush() != net::OutQueue::Flush::failed;
}

bool Connection::congested() const {
  return transport_.out().queued_bytes() > context_.config.output_high_water;
}

bool Connection::make_room() {
  // What sits in memory beyond the mark goes to a spool file, sent from there as the client
  // reads: neither the worker's loop (sync, event) nor a thread (gthread) waits for a slow
  // reader of a write() response, and memory stays bounded.
  if (transport_.out().memory_bytes() <= context_.config.output_high_water) return true;
  // sendfile(2) sends the spool: --no-sendfile (a filesystem where it misbehaves) waits instead.
  if (context_.config.response.sendfile &&
      transport_.spill(context_.spool_directory, kMaxSpoolBytes)) {
    return true;
  }
  return wait_for_room();
}

bool Connection::wait_for_room() {
  // Blocks (GIL released) while the client reads what is queued ahead, up to the spool's
  // ceiling; gives up once it has read nothing for `timeout`, like the loop would. The wait
  // is bounded, so it beats the heartbeat: the arbiter must not kill a worker for it.
  const std::int64_t limit = timeout_ns(context_.config);
  const int poll_ms =
      limit ? static_cast<int>(std::min<std::int64_t>(limit / 4'000'000, 1000)) + 1 : 1000;
  std::int64_t give_up = limit ? util::monotonic_ns() + limit : 0;
  while (transport_.out().memory_bytes() > context_.config.output_high_water) {
    bool waited;
    {
      wsgi::GilReleased released;
      waited = transport_.wait_writable(poll_ms);
    }
    if (!waited) return false;
    const std::uint64_t written = transport_.out().written_bytes();
    if (transport_.flush() == net::OutQueue::Flush::failed) return false;
    const std::int64_t now = util::monotonic_ns();
    if (context_.heartbeat) context_.heartbeat->store(now, std::memory_order_relaxed);
    if (transport_.out().written_bytes() != written) {
      if (limit) give_up = now + limit;
    } else if (give_up && now > give_up) {
      return false;
    }
  }
  return true;
}

}  // namespace monoceros::worker
