// Response: one request's answer, from app(environ, start_response) to the last byte queued.
#include "wsgi/response.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>

#include "wsgi/file_wrapper.hpp"
#include "wsgi/header_rules.hpp"
#include "wsgi/start_response.hpp"

namespace monoceros::wsgi {
namespace {

// Body pieces below this size are copied next to the head, so a small response leaves in one
// write; larger ones are queued by reference to the app's bytes object (no copy).
constexpr std::size_t kCopyBelow = 16 * 1024;

PyObject* interned(const char* text) {
  PyObject* name = PyUnicode_InternFromString(text);
  if (!name) PyErr_Clear();
  return name;
}

// Logs the pending exception through settings.report_exception and clears it.
void report_pending(const ResponseSettings& settings, std::string_view message) {
  PyObject* type = nullptr;
  PyObject* value = nullptr;
  PyObject* traceback = nullptr;
  PyErr_Fetch(&type, &value, &traceback);
  PyErr_NormalizeException(&type, &value, &traceback);
  if (value && traceback) PyException_SetTraceback(value, traceback);
  if (settings.report_exception && value) {
    PyObject* text =
        PyUnicode_DecodeLatin1(message.data(), static_cast<Py_ssize_t>(message.size()), "replace");
    PyObject* outcome =
        text ? PyObject_CallFunctionObjArgs(settings.report_exception, text, value, nullptr)
             : nullptr;
    if (!outcome) PyErr_WriteUnraisable(settings.report_exception);
    Py_XDECREF(outcome);
    Py_XDECREF(text);
  }
  Py_XDECREF(type);
  Py_XDECREF(value);
  Py_XDECREF(traceback);
}

}  // namespace

Response::Response(const ResponseSettings& settings, http::HttpDate& date,
                   const RequestFacts& facts, ResponseOutput& output)
    : settings_(settings),
      date_(date),
      facts_(facts),
      output_(output),
      framing_({.version_minor = facts.version_minor,
                .head = facts.head,
                .keep_alive = facts.keep_alive}) {
  start_response_ = PyRef::steal(new_start_response(this));
  if (start_response_) early_hints_ = PyRef::steal(bound_early_hints(start_response_.get()));
}

Response::~Response() {
  complete();
}

Response::Progress Response::run(PyObject* app, PyObject* environ) {
  if (!start_response_ || !early_hints_) return fail();
  PyObject* args[] = {environ, start_response_.get()};
  result_ = PyRef::steal(PyObject_Vectorcall(app, args, 2, nullptr));
  if (!result_) return fail();
  PyObject* result = result_.get();
  // The common shapes first: a one-item list of bytes (Flask, Django, most frameworks).
  if ((PyList_CheckExact(result) || PyTuple_CheckExact(result)) &&
      PySequence_Fast_GET_SIZE(result) == 1 &&
      PyBytes_CheckExact(PySequence_Fast_GET_ITEM(result, 0))) {
    return send_whole(PySequence_Fast_GET_ITEM(result, 0));
  }
  PyObject* filelike = nullptr;
  Py_ssize_t block_size = 0;
  if (settings_.sendfile && unwrap_file_wrapper(result, &filelike, &block_size)) {
    return send_file(filelike);
  }
  iterator_ = PyRef::steal(PyObject_GetIter(result));
  if (!iterator_) return fail();
  return pump();
}

Response::Progress Response::resume() {
  return iterator_ ? pump() : Progress::finished;
}

Response::Progress Response::pump() {
  for (;;) {
    if (output_.congested()) {
      if (!flush_output()) return Progress::failed;
      if (output_.congested()) return Progress::paused;
    }
    PyObject* item = PyIter_Next(iterator_.get());
    if (!item) return PyErr_Occurred() ? fail() : finish_body();
    PyRef chunk = PyRef::steal(item);
    if (!PyBytes_Check(item)) {
      PyErr_Format(PyExc_TypeError, "the response iterable yielded %.100s, not bytes",
                   Py_TYPE(item)->tp_name);
      return fail();
    }
    const auto size = static_cast<std::size_t>(PyBytes_GET_SIZE(item));
    if (size == 0) continue;  // PEP 3333: empty strings are not a reason to send the head
    if (!framing_.head_sent()) {
      if (!require_started()) return fail();
      send_head();
    }
    write_body(item, {PyBytes_AS_STRING(item), size});
    if (!flush_output()) return Progress::failed;
  }
}

Response::Progress Response::send_whole(PyObject* body) {
  if (!require_started()) return fail();
  const auto size = static_cast<std::uint64_t>(PyBytes_GET_SIZE(body));
  // The whole body is known before the head leaves, so it can carry its length; unless a
  // write() call sent the head already, and the body continues in the framing it chose.
  if (!framing_.head_sent()) {
    framing_.set_whole_body(size);
    send_head();
  }
  write_body(body, {PyBytes_AS_STRING(body), static_cast<std::size_t>(size)});
  return finish_body();
}

Response::Progress Response::send_file(PyObject* filelike) {
  PyRef fileno = PyRef::steal(PyObject_CallMethod(filelike, "fileno", nullptr));
  const int fd = fileno ? static_cast<int>(PyLong_AsLong(fileno.get())) : -1;
  struct stat info{};
  if (fd < 0 || PyErr_Occurred() || ::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    PyErr_Clear();  // not a real file: iterate the wrapper instead
    iterator_ = PyRef::steal(PyObject_GetIter(result_.get()));
    return iterator_ ? pump() : fail();
  }
  // tell() rather than lseek(): a buffered Python file may have read ahead of its position.
  PyRef told = PyRef::steal(PyObject_CallMethod(filelike, "tell", nullptr));
  long long offset = told ? PyLong_AsLongLong(told.get()) : -1;
  if (offset < 0 || PyErr_Occurred()) {
    PyErr_Clear();
    offset = ::lseek(fd, 0, SEEK_CUR);
    if (offset < 0) offset = 0;
  }
  if (!require_started()) return fail();
  const auto file_size = static_cast<std::uint64_t>(info.st_size);
  const std::uint64_t available = file_size > static_cast<std::uint64_t>(offset)
                                      ? file_size - static_cast<std::uint64_t>(offset)
                                      : 0;
  // As in send_whole(): a head that write() already sent keeps its framing.
  if (!framing_.head_sent()) {
    framing_.set_whole_body(available);
    send_head();
  }
  write_file_range(fd, static_cast<std::uint64_t>(offset), available);
  return finish_body();
}

void Response::write_file_range(int fd, std::uint64_t offset, std::uint64_t length) {
  length = framing_.begin_piece(pending_, length);
  if (length == 0) return;
  if (!pending_.empty()) output_.queue(std::move(pending_));
  pending_.clear();
  output_.queue_file(result_.get(), fd, offset, length);
  framing_.end_piece(pending_);
}

Response::Progress Response::finish_body() {
  if (!framing_.head_sent()) {
    if (!require_started()) return fail();
    framing_.set_no_body();  // nothing was yielded
    send_head();
  }
  framing_.finish(pending_);
  return flush_output() ? Progress::finished : Progress::failed;
}

Response::Progress Response::fail() {
  // SystemExit, KeyboardInterrupt and other non-Exception errors stop the worker. A worker
  // told to exit mid-request (SIGABRT on timeout, SIGQUIT) still answers this client with a
  // 500 when it can, as gunicorn does; the exception stays pending on its way out.
  if (!PyErr_ExceptionMatches(PyExc_Exception)) {
    if (!framing_.head_sent()) answer_internal_error();
    return Progress::fatal;
  }
  std::string message = "Error handling request ";
  message += facts_.raw_uri;
  report_pending(settings_, message);
  framing_.set_must_close();
  if (framing_.head_sent()) return Progress::failed;  // too late for a 500: cut the response short
  return answer_internal_error() ? Progress::finished : Progress::failed;
}

bool Response::answer_internal_error() {
  pending_.clear();
  framing_.write_error(pending_, 500, "Internal Server Error", "", settings_.server, date_.now());
  output_.queue(std::move(pending_));
  pending_.clear();
  return output_.flush();
}

bool Response::require_started() {
  if (started_) return true;
  PyErr_SetString(PyExc_RuntimeError, "the application did not call start_response()");
  return false;
}

void Response::write_body(PyObject* owner, std::string_view data) {
  const auto size = static_cast<std::size_t>(framing_.begin_piece(pending_, data.size()));
  if (size == 0) return;
  emit(owner, data.substr(0, size));
  framing_.end_piece(pending_);
}

void Response::emit(PyObject* owner, std::string_view data) {
  if (data.size() < kCopyBelow || !owner) {
    pending_.append(data);
    return;
  }
  if (!pending_.empty()) output_.queue(std::move(pending_));
  pending_.clear();
  output_.queue_borrowed(owner, data);
}

bool Response::flush_output() {
  if (!pending_.empty()) {
    output_.queue(std::move(pending_));
    pending_.clear();
  }
  if (output_.flush()) return true;
  framing_.set_must_close();
  return false;
}

void Response::complete() {
  if (completed_) return;
  completed_ = true;
  detach_start_response(start_response_.get());
  iterator_.reset();
  if (!result_) return;
  PyRef result = std::move(result_);
  if (PyList_CheckExact(result.get()) || PyTuple_CheckExact(result.get())) return;
  // A pending exception (the fatal path) must survive the close() call.
  PyObject* type = nullptr;
  PyObject* value = nullptr;
  PyObject* traceback = nullptr;
  PyErr_Fetch(&type, &value, &traceback);
  static PyObject* close_name = interned("close");
  PyRef close = PyRef::steal(close_name ? PyObject_GetAttr(result.get(), close_name) : nullptr);
  if (!close) {
    PyErr_Clear();
  } else if (PyRef outcome = PyRef::steal(PyObject_CallNoArgs(close.get())); !outcome) {
    std::string message = "Error closing the response of ";
    message += facts_.raw_uri;
    report_pending(settings_, message);
  }
  PyErr_Restore(type, value, traceback);
}

PyObject* Response::on_start_response(PyObject* status, PyObject* headers, PyObject* exc_info) {
  if (exc_info != Py_None) {
    if (framing_.head_sent()) {
      // PEP 3333: too late to change the response, so re-raise the app's own exception.
      if (!PyTuple_Check(exc_info) || PyTuple_GET_SIZE(exc_info) < 2) {
        PyErr_SetString(PyExc_TypeError, "exc_info must be a (type, value, traceback) tuple");
        return nullptr;
      }
      PyObject* value = PyTuple_GET_ITEM(exc_info, 1);
      if (PyTuple_GET_SIZE(exc_info) > 2 && PyTuple_GET_ITEM(exc_info, 2) != Py_None) {
        PyException_SetTraceback(value, PyTuple_GET_ITEM(exc_info, 2));
      }
      PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(value)), value);
      return nullptr;
    }
  } else if (started_) {
    PyErr_SetString(PyExc_AssertionError, "start_response() called again without exc_info");
    return nullptr;
  }
  std::string status_text;
  int code = 0;
  if (!parse_status(status, status_text, code)) return nullptr;
  CollectedHeaders collected;
  if (!collect_headers(headers, collected)) return nullptr;
  framing_.start(
      code, std::move(status_text), std::move(collected.headers),
      collected.has_content_length ? std::optional(collected.content_length) : std::nullopt,
      collected.upgrade);
  started_ = true;
  return bound_write(start_response_.get());
}

PyObject* Response::on_write(PyObject* data) {
  if (!PyBytes_Check(data)) {
    PyErr_Format(PyExc_TypeError, "write() argument must be bytes, not %.100s",
                 Py_TYPE(data)->tp_name);
    return nullptr;
  }
  if (!require_started()) return nullptr;
  // PEP 3333: the first write() call sends the head, an empty one too (as gunicorn does).
  if (!framing_.head_sent()) send_head();
  write_body(data, {PyBytes_AS_STRING(data), static_cast<std::size_t>(PyBytes_GET_SIZE(data))});
  if (!flush_output() || (output_.congested() && !output_.make_room())) {
    framing_.set_must_close();
    errno = EPIPE;
    return PyErr_SetFromErrno(PyExc_OSError);
  }
  Py_RETURN_NONE;
}

PyObject* Response::on_early_hints(PyObject* headers) {
  if (!framing_.early_hints_allowed()) Py_RETURN_NONE;
  CollectedHeaders collected;
  if (!collect_headers(headers, collected)) return nullptr;
  std::string hints;
  http::ResponseFraming::write_early_hints(hints, collected.headers);
  output_.queue(std::move(hints));
  if (!output_.flush()) {
    framing_.set_must_close();
    errno = EPIPE;
    return PyErr_SetFromErrno(PyExc_OSError);
  }
  Py_RETURN_NONE;
}

}  // namespace monoceros::wsgi
