// What an app may put in start_response: a valid status and header fields, as latin-1 bytes.
// The same discipline as inbound parsing (CVE-2018-1000164 class): never emit CR, LF or NUL.
#include "wsgi/header_rules.hpp"

#include "http/char_class.hpp"
#include "http/response_head.hpp"

namespace monoceros::wsgi {
namespace {

std::string_view trim_ows(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

}  // namespace

bool append_latin1(PyObject* text, std::string& out) {
  if (!PyUnicode_Check(text)) {
    PyErr_Format(PyExc_TypeError, "%R is not a string", text);
    return false;
  }
  if (PyUnicode_IS_ASCII(text)) {
    Py_ssize_t length = 0;
    const char* data = PyUnicode_AsUTF8AndSize(text, &length);
    if (!data) return false;
    out.append(data, static_cast<std::size_t>(length));
    return true;
  }
  PyObject* encoded = PyUnicode_AsLatin1String(text);
  if (!encoded) return false;
  out.append(PyBytes_AS_STRING(encoded), static_cast<std::size_t>(PyBytes_GET_SIZE(encoded)));
  Py_DECREF(encoded);
  return true;
}

bool parse_status(PyObject* status, std::string& text, int& code) {
  text.clear();
  if (!append_latin1(status, text)) return false;
  // RFC 9112 §4: status-code = 3DIGIT, then SP reason-phrase (which may be empty).
  const bool digits = text.size() >= 3 && text[0] >= '1' && text[0] <= '9' && text[1] >= '0' &&
                      text[1] <= '9' && text[2] >= '0' && text[2] <= '9';
  const bool separated = text.size() == 3 || text[3] == ' ';
  if (!digits || !separated || !http::is_field_value(std::string_view(text).substr(3))) {
    PyErr_Format(PyExc_ValueError, "invalid status %R: expected a 3-digit code and a reason",
                 status);
    return false;
  }
  code = (text[0] - '0') * 100 + (text[1] - '0') * 10 + (text[2] - '0');
  return true;
}

bool collect_headers(PyObject* headers, CollectedHeaders& out) {
  PyObject* sequence = PySequence_Fast(headers, "headers must be a list of (name, value) tuples");
  if (!sequence) return false;
  const Py_ssize_t count = PySequence_Fast_GET_SIZE(sequence);
  PyObject** items = PySequence_Fast_ITEMS(sequence);
  std::string name;
  std::string value;
  bool ok = true;
  for (Py_ssize_t i = 0; ok && i < count; ++i) {
    PyObject* item = items[i];
    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
      PyErr_Format(PyExc_TypeError, "header %R is not a (name, value) tuple", item);
      ok = false;
      break;
    }
    name.clear();
    value.clear();
    if (!append_latin1(PyTuple_GET_ITEM(item, 0), name) ||
        !append_latin1(PyTuple_GET_ITEM(item, 1), value)) {
      ok = false;
      break;
    }
    if (!http::is_token(name)) {
      PyErr_Format(PyExc_ValueError, "invalid header name %R", PyTuple_GET_ITEM(item, 0));
      ok = false;
      break;
    }
    const std::string_view trimmed = trim_ows(value);
    if (!http::is_field_value(trimmed)) {
      PyErr_Format(PyExc_ValueError, "invalid value for header %s: %R", name.c_str(),
                   PyTuple_GET_ITEM(item, 1));
      ok = false;
      break;
    }
    if (http::is_hop_by_hop(name)) {
      if (http::equals_ignore_case(name, "connection")) {
        if (http::equals_ignore_case(trimmed, "upgrade")) out.upgrade = true;
      } else if (http::equals_ignore_case(name, "upgrade") &&
                 http::equals_ignore_case(trimmed, "websocket")) {
        out.headers.emplace_back(name, std::string(trimmed));
      }
      continue;
    }
    if (http::equals_ignore_case(name, "content-length")) {
      std::uint64_t length = 0;
      if (!http::parse_content_length(trimmed, length) ||
          (out.has_content_length && length != out.content_length)) {
        PyErr_Format(PyExc_ValueError, "invalid Content-Length header: %R",
                     PyTuple_GET_ITEM(item, 1));
        ok = false;
        break;
      }
      if (out.has_content_length) continue;  // an identical repeat adds nothing
      out.has_content_length = true;
      out.content_length = length;
    }
    out.headers.emplace_back(name, std::string(trimmed));
  }
  Py_DECREF(sequence);
  return ok;
}

}  // namespace monoceros::wsgi
