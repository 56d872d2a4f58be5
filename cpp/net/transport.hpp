// Transport: one client connection's byte stream. It owns the socket and the bytes waiting to
// be written (with their spool file for a slow reader), and offers the layer above only
// "bytes in", "bytes out", readiness and the ways a connection ends (half-close and linger,
// close). The HTTP/1 exchange above it never touches the descriptor, so a TLS transport with
// the same interface can stand in for this one without the protocol knowing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "net/byte_buffer.hpp"
#include "net/out_queue.hpp"
#include "net/spool_file.hpp"
#include "util/unique_fd.hpp"

namespace monoceros::net {

class Transport {
 public:
  explicit Transport(util::unique_fd fd) noexcept : fd_(std::move(fd)) {}
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;
  ~Transport() { close(); }

  // The descriptor, for the event loop's registration and the app's gunicorn.socket.
  int fd() const noexcept { return fd_.get(); }
  bool is_open() const noexcept { return static_cast<bool>(fd_); }

  // ---- bytes in
  // Appends up to `max_read` bytes to `into`: > 0 bytes read, 0 the peer's end of stream,
  // < 0 with errno (EAGAIN: nothing now). `compact` first moves what `into` holds to its
  // front when that makes room (a head buffer parsed in place).
  long read(ByteBuffer& into, std::size_t max_read, bool compact = false) noexcept;
  // Bytes the peer sent that nobody has read yet.
  bool input_waiting() const noexcept;

  // ---- bytes out
  OutQueue& out() noexcept { return out_; }
  const OutQueue& out() const noexcept { return out_; }
  // Writes what it can without blocking.
  OutQueue::Flush flush() { return out_.flush(fd_.get()); }
  // Waits until the socket may take more bytes, at most `timeout_ms`: false on an error
  // (poll), true otherwise (also on a timeout; the caller sees whether anything was written).
  bool wait_writable(int timeout_ms) noexcept;
  // Moves the bytes queued in memory to a spool file in `directory`, whose bytes are then
  // sent with sendfile(2): memory stays bounded for a client that reads slowly. False when
  // the spool cannot be made or would pass `max_spool_bytes`.
  bool spill(const std::string& directory, std::uint64_t max_spool_bytes) noexcept;
  // Ends this response's spool: the ranges still queued keep the file open until sent.
  void end_spool() noexcept;

  // ---- the end
  // Half-close: our side is done (the peer reads the end of stream after the bytes sent).
  void shutdown_write() noexcept;
  // Reads and drops what the peer still sends (linger after a half-close, so that closing
  // does not reset a response still in flight): true while more may come, false once the
  // peer ended, failed or sent more than `max_total` bytes in all.
  bool discard_input(std::uint64_t max_total) noexcept;
  // Drops what is queued and closes the socket.
  void close() noexcept;
  // The app closed the descriptor itself (gunicorn.socket): it is gone and its number may be
  // in use again, so it is let go of without close().
  void forget() noexcept;

 private:
  util::unique_fd fd_;
  OutQueue out_;
  SpoolFile* spool_ = nullptr;  // this response's write() overflow; one reference
  std::uint64_t discarded_ = 0;
};

}  // namespace monoceros::net
