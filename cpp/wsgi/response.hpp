// Response: one request's answer, from app(environ, start_response) to the last byte queued.
// It validates what the app says, has http::ResponseFraming frame it (Content-Length, chunked or
// close-delimited) and hands bytes to a ResponseOutput, pausing the app's iterator while the
// client is slow.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/response_framing.hpp"
#include "http/response_head.hpp"
#include "wsgi/py_ref.hpp"
#include "wsgi/python.hpp"

namespace monoceros::wsgi {

// Where a response's bytes go: the worker's connection. Called with the GIL held.
class ResponseOutput {
 public:
  virtual ~ResponseOutput() = default;
  virtual void queue(std::string bytes) = 0;
  // Queues the bytes of a Python object without copying; takes a new reference to `owner`.
  virtual void queue_borrowed(PyObject* owner, std::string_view data) = 0;
  // Queues a file range for sendfile(2); `owner` (referenced) keeps `fd` open.
  virtual void queue_file(PyObject* owner, int fd, std::uint64_t offset, std::uint64_t length) = 0;
  // Writes what it can without blocking; false once the client is gone.
  virtual bool flush() = 0;
  // True while so much is queued that the app's iterator should wait for the client.
  virtual bool congested() const = 0;
  // Called by the write() callable while congested: it must not keep more than the high-water
  // mark in memory, and should not wait for the client (PEP 3333 lets it, but the worker's
  // other clients would wait too). False if the client is gone or too slow.
  virtual bool make_room() = 0;
};

// Fixed for the life of a worker; filled by monoceros.core_settings (the defaults are the
// settings table's).
struct ResponseSettings {
  std::string server;                    // the Server header
  bool sendfile{};                       // --no-sendfile turns it off
  PyObject* report_exception = nullptr;  // callable(message, exception): logs a traceback
};

// Fixed for one request.
struct RequestFacts {
  int version_minor = 1;  // HTTP/1.<minor>
  bool head = false;      // HEAD: never send body bytes
  bool keep_alive = false;
  std::string_view raw_uri;
};

using HeaderList = http::HeaderFields;

class Response {
 public:
  enum class Progress : std::uint8_t {
    finished,  // everything is queued; complete() once the output has drained
    paused,    // the output is congested: resume() when it drains
    failed,    // the client is gone or the response broke after its head: close the connection
    fatal,     // a BaseException (SystemExit, KeyboardInterrupt) is pending: stop the worker
  };

  Response(const ResponseSettings& settings, http::HttpDate& date, const RequestFacts& facts,
           ResponseOutput& output);
  Response(const Response&) = delete;
  Response& operator=(const Response&) = delete;
  ~Response();

  // The start_response callable and the wsgi.early_hints callable for the environ (borrowed).
  PyObject* start_response() const noexcept { return start_response_.get(); }
  PyObject* early_hints() const noexcept { return early_hints_.get(); }

  Progress run(PyObject* app, PyObject* environ);
  // A Python error is pending before the app could run (building its environ failed):
  // answer it like an app error.
  Progress fail_with_pending_error() { return fail(); }
  Progress resume();
  // Calls the result's close() (PEP 3333: always, also after errors) and detaches
  // start_response. Idempotent.
  void complete();

  bool must_close() const noexcept { return framing_.must_close(); }
  bool headers_sent() const noexcept { return framing_.head_sent(); }
  int status_code() const noexcept { return framing_.status_code(); }
  const std::string& status() const noexcept { return framing_.status(); }  // "200 OK"; or empty
  // The app's Content-Length, when it gave one (or monoceros added one).
  bool has_content_length() const noexcept { return framing_.has_content_length(); }
  std::uint64_t content_length() const noexcept { return framing_.content_length(); }
  std::uint64_t body_bytes() const noexcept { return framing_.body_sent(); }
  const HeaderList& headers() const noexcept { return framing_.headers(); }

  // Entry points of the start_response object.
  PyObject* on_start_response(PyObject* status, PyObject* headers, PyObject* exc_info);
  PyObject* on_write(PyObject* data);
  PyObject* on_early_hints(PyObject* headers);

 private:
  Progress pump();
  Progress send_whole(PyObject* body);
  Progress send_file(PyObject* filelike);
  Progress finish_body();
  Progress fail();
  bool answer_internal_error();  // queue and flush a 500; false if the client is gone
  bool require_started();
  void send_head() { framing_.write_head(pending_, settings_.server, date_.now()); }
  // Queues a piece of body as framed by framing_ (which may clip or drop it).
  void write_body(PyObject* owner, std::string_view data);
  // The same for a file range, sent with sendfile(2); the result keeps `fd` open.
  void write_file_range(int fd, std::uint64_t offset, std::uint64_t length);
  void emit(PyObject* owner, std::string_view data);
  bool flush_output();

  const ResponseSettings& settings_;
  http::HttpDate& date_;
  RequestFacts facts_;
  ResponseOutput& output_;

  PyRef start_response_;
  PyRef early_hints_;
  PyRef result_;
  PyRef iterator_;

  bool started_ = false;  // start_response was called
  bool completed_ = false;
  http::ResponseFraming framing_;  // status, fields and every framing decision
  std::string pending_;            // small bytes gathered so a small response leaves in one write
};

}  // namespace monoceros::wsgi
