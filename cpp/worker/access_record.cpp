// The access-log line for one finished request, formatted in C++ and handed to the
// gunicorn.access logger (so users' logging configuration still decides where it goes).
#include "worker/access_record.hpp"

#include <unistd.h>

#include <string>

#include "http/char_class.hpp"

namespace monoceros::worker {
namespace {

std::string_view request_header(const http::Request& request, std::string_view lower_name) {
  std::string_view found;
  for (const http::Header& header : request.headers) {
    if (http::equals_ignore_case(header.name, lower_name)) found = header.value;  // last wins
  }
  return found;
}

bool lookup_request_header(const void* context, std::string_view name, std::string& out) {
  const auto& facts = *static_cast<const AccessFacts*>(context);
  bool seen = false;
  for (const http::Header& header : facts.request.headers) {
    if (http::equals_ignore_case(header.name, name)) {
      out.assign(header.value);
      seen = true;
    }
  }
  return seen;
}

bool lookup_response_header(const void* context, std::string_view name, std::string& out) {
  const auto& facts = *static_cast<const AccessFacts*>(context);
  bool seen = false;
  for (const auto& [header_name, value] : facts.response.headers()) {
    if (http::equals_ignore_case(header_name, name)) {
      out = value;
      seen = true;
    }
  }
  return seen;
}

// str(value) as latin-1 bytes: environ strings are latin-1 decoded request bytes, so this
// gives back what the client sent; other characters become '?'.
bool append_text(PyObject* value, std::string& out) {
  PyObject* text = PyObject_Str(value);
  PyObject* encoded = text ? PyUnicode_AsEncodedString(text, "latin-1", "replace") : nullptr;
  Py_XDECREF(text);
  if (!encoded) {
    PyErr_Clear();
    return false;
  }
  out.assign(PyBytes_AS_STRING(encoded), static_cast<std::size_t>(PyBytes_GET_SIZE(encoded)));
  Py_DECREF(encoded);
  return true;
}

// {name}e: environ keys compared lower-cased, as gunicorn builds that atom.
bool lookup_environ(const void* context, std::string_view name, std::string& out) {
  const auto& facts = *static_cast<const AccessFacts*>(context);
  if (!facts.environ) return false;
  PyObject* key = nullptr;
  PyObject* value = nullptr;
  Py_ssize_t position = 0;
  while (PyDict_Next(facts.environ, &position, &key, &value)) {
    if (!PyUnicode_Check(key)) continue;
    Py_ssize_t length = 0;
    const char* text = PyUnicode_AsUTF8AndSize(key, &length);
    if (!text) {
      PyErr_Clear();
      continue;
    }
    if (http::equals_ignore_case(std::string_view(text, static_cast<std::size_t>(length)), name)) {
      return append_text(value, out);
    }
  }
  return false;
}

std::string path_info(PyObject* environ) {
  std::string out;
  if (!environ) return out;
  PyObject* value = PyDict_GetItemString(environ, "PATH_INFO");
  if (value) append_text(value, out);
  return out;
}

}  // namespace

void write_access_record(const log::AccessLog& format, PyObject* sink, const AccessFacts& facts) {
  const http::Request& request = facts.request;
  std::string protocol = "HTTP/";
  protocol += std::to_string(request.version_major);
  protocol += '.';
  protocol += std::to_string(request.version_minor);
  const std::string path = path_info(facts.environ);

  log::AccessRecord record;
  record.remote_addr = facts.remote_addr;
  record.method = request.method;
  record.raw_uri = request.target;
  record.protocol = protocol;
  record.path_info = path;
  record.query = request.query;
  record.status = facts.response.status_code();
  record.bytes_sent = facts.response.body_bytes();
  record.referer = request_header(request, "referer");
  record.user_agent = request_header(request, "user-agent");
  record.authorization = request_header(request, "authorization");
  record.duration_us = facts.duration_ns / 1000;
  record.pid = static_cast<int>(::getpid());
  record.context = &facts;
  record.request_header = &lookup_request_header;
  record.response_header = &lookup_response_header;
  record.environ_value = &lookup_environ;

  std::string line;
  format.format(record, line);
  PyObject* text =
      PyUnicode_DecodeLatin1(line.data(), static_cast<Py_ssize_t>(line.size()), nullptr);
  PyObject* outcome = text ? PyObject_CallOneArg(sink, text) : nullptr;
  if (!outcome) PyErr_WriteUnraisable(sink);
  Py_XDECREF(outcome);
  Py_XDECREF(text);
}

}  // namespace monoceros::worker
