// wsgi.input: read / readline / readlines / iteration over a fully received request body.
// The body is complete before the app runs, so every read is a memory copy or a pread of the
// spool file: the app never waits on the network while it holds the GIL.
#include "wsgi/input.hpp"

#include <cstdint>

namespace monoceros::wsgi {
namespace {

struct InputObject {
  PyObject_HEAD RequestBody* body;  // owned; null for an empty body
  std::uint64_t position;
};

PyTypeObject* input_type = nullptr;

std::uint64_t body_size(const InputObject* self) {
  return self->body ? self->body->size() : 0;
}

// The optional size argument of read/readline: None, absent or negative mean "no limit".
bool parse_size(PyObject* const* args, Py_ssize_t nargs, const char* name, long long& size) {
  size = -1;
  if (nargs > 1) {
    PyErr_Format(PyExc_TypeError, "%s() takes at most 1 argument (%zd given)", name, nargs);
    return false;
  }
  if (nargs == 0 || args[0] == Py_None) return true;
  if (!PyLong_Check(args[0])) {
    PyErr_Format(PyExc_TypeError, "%s() argument must be int or None, not %.100s", name,
                 Py_TYPE(args[0])->tp_name);
    return false;
  }
  size = PyLong_AsLongLong(args[0]);
  return !(size == -1 && PyErr_Occurred());
}

// Returns bytes [position, end) and advances.
PyObject* take(InputObject* self, std::uint64_t end) {
  const std::uint64_t start = self->position;
  const auto length = static_cast<Py_ssize_t>(end - start);
  PyObject* result = PyBytes_FromStringAndSize(nullptr, length);
  if (!result || length == 0) return result;
  const long got =
      self->body->read_at(start, PyBytes_AS_STRING(result), static_cast<std::size_t>(length));
  if (got != length) {
    Py_DECREF(result);
    PyErr_SetString(PyExc_OSError, "could not read the spooled request body");
    return nullptr;
  }
  self->position = end;
  return result;
}

std::uint64_t limit_from(InputObject* self, long long size) {
  const std::uint64_t total = body_size(self);
  if (size < 0) return total;
  const std::uint64_t wanted = self->position + static_cast<std::uint64_t>(size);
  return wanted < total ? wanted : total;
}

std::uint64_t next_line_end(InputObject* self, std::uint64_t limit) {
  if (!self->body) return self->position;
  return self->body->line_end(self->position, limit);
}

PyObject* input_read(PyObject* object, PyObject* const* args, Py_ssize_t nargs) {
  auto* self = reinterpret_cast<InputObject*>(object);
  long long size = -1;
  if (!parse_size(args, nargs, "read", size)) return nullptr;
  return take(self, limit_from(self, size));
}

PyObject* input_readline(PyObject* object, PyObject* const* args, Py_ssize_t nargs) {
  auto* self = reinterpret_cast<InputObject*>(object);
  long long size = -1;
  if (!parse_size(args, nargs, "readline", size)) return nullptr;
  return take(self, next_line_end(self, limit_from(self, size)));
}

// The hint is ignored, as in gunicorn: every remaining line is returned.
PyObject* input_readlines(PyObject* object, PyObject* const* args, Py_ssize_t nargs) {
  auto* self = reinterpret_cast<InputObject*>(object);
  long long hint = -1;
  if (!parse_size(args, nargs, "readlines", hint)) return nullptr;
  PyObject* lines = PyList_New(0);
  if (!lines) return nullptr;
  const std::uint64_t total = body_size(self);
  while (self->position < total) {
    PyObject* line = take(self, next_line_end(self, total));
    if (!line || PyList_Append(lines, line) < 0) {
      Py_XDECREF(line);
      Py_DECREF(lines);
      return nullptr;
    }
    Py_DECREF(line);
  }
  return lines;
}

PyObject* input_iternext(PyObject* object) {
  auto* self = reinterpret_cast<InputObject*>(object);
  const std::uint64_t total = body_size(self);
  if (self->position >= total) return nullptr;  // StopIteration
  return take(self, next_line_end(self, total));
}

void input_dealloc(PyObject* object) {
  auto* self = reinterpret_cast<InputObject*>(object);
  delete self->body;
  PyTypeObject* type = Py_TYPE(object);
  type->tp_free(object);
  Py_DECREF(type);
}

PyMethodDef input_methods[] = {
    {"read", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(input_read)), METH_FASTCALL,
     "read(size=-1) -> bytes: up to size bytes, or the rest of the body."},
    {"readline", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(input_readline)),
     METH_FASTCALL, "readline(size=-1) -> bytes: the next line, including its newline."},
    {"readlines", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(input_readlines)),
     METH_FASTCALL, "readlines(hint=-1) -> list: every remaining line (the hint is ignored)."},
    {nullptr, nullptr, 0, nullptr}};

PyType_Slot input_slots[] = {
    {Py_tp_dealloc, reinterpret_cast<void*>(input_dealloc)},
    {Py_tp_iter, reinterpret_cast<void*>(PyObject_SelfIter)},
    {Py_tp_iternext, reinterpret_cast<void*>(input_iternext)},
    {Py_tp_methods, input_methods},
    {Py_tp_doc,
     const_cast<char*>("The request body (wsgi.input), fully received before the app runs.")},
    {0, nullptr}};

PyType_Spec input_spec = {"monoceros._core.InputStream", sizeof(InputObject), 0, Py_TPFLAGS_DEFAULT,
                          input_slots};

}  // namespace

bool init_input_type(PyObject* module) {
  PyObject* type = PyType_FromSpec(&input_spec);
  if (!type) return false;
  input_type = reinterpret_cast<PyTypeObject*>(type);
  Py_INCREF(type);
  return PyModule_AddObject(module, "InputStream", type) == 0;
}

PyObject* new_input(std::unique_ptr<RequestBody> body) {
  auto* self = PyObject_New(InputObject, input_type);
  if (!self) return nullptr;
  self->body = body.release();
  self->position = 0;
  return reinterpret_cast<PyObject*>(self);
}

}  // namespace monoceros::wsgi
