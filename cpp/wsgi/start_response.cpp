// The start_response callable (with its write() and early_hints() companions) that the app
// receives. A thin Python object forwarding to its Response, detached once the response ends.
#include "wsgi/start_response.hpp"

#include "wsgi/response.hpp"

namespace monoceros::wsgi {
namespace {

struct StartResponseObject {
  PyObject_HEAD Response* owner;  // null once the response has completed
};

PyTypeObject* start_response_type = nullptr;

Response* owner_of(PyObject* self) {
  Response* owner = reinterpret_cast<StartResponseObject*>(self)->owner;
  if (!owner) {
    PyErr_SetString(PyExc_RuntimeError,
                    "start_response/write used after the response was completed");
  }
  return owner;
}

PyObject* start_response_call(PyObject* self, PyObject* args, PyObject* kwargs) {
  static const char* keywords[] = {"status", "headers", "exc_info", nullptr};
  PyObject* status = nullptr;
  PyObject* headers = nullptr;
  PyObject* exc_info = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|O:start_response",
                                   const_cast<char**>(keywords), &status, &headers, &exc_info)) {
    return nullptr;
  }
  Response* owner = owner_of(self);
  return owner ? owner->on_start_response(status, headers, exc_info) : nullptr;
}

PyObject* write_call(PyObject* self, PyObject* data) {
  Response* owner = owner_of(self);
  return owner ? owner->on_write(data) : nullptr;
}

PyObject* early_hints_call(PyObject* self, PyObject* headers) {
  Response* owner = owner_of(self);
  return owner ? owner->on_early_hints(headers) : nullptr;
}

PyMethodDef write_method = {"write", write_call, METH_O,
                            "write(data: bytes): send body bytes now (PEP 3333)."};
PyMethodDef early_hints_method = {
    "early_hints", early_hints_call, METH_O,
    "early_hints(headers): send a 103 Early Hints response before the final one."};

void start_response_dealloc(PyObject* object) {
  PyTypeObject* type = Py_TYPE(object);
  type->tp_free(object);
  Py_DECREF(type);
}

PyType_Slot start_response_slots[] = {
    {Py_tp_call, reinterpret_cast<void*>(start_response_call)},
    {Py_tp_dealloc, reinterpret_cast<void*>(start_response_dealloc)},
    {Py_tp_doc, const_cast<char*>("start_response(status, headers, exc_info=None) -> write")},
    {0, nullptr}};

PyType_Spec start_response_spec = {"monoceros._core.StartResponse", sizeof(StartResponseObject), 0,
                                   Py_TPFLAGS_DEFAULT, start_response_slots};

}  // namespace

bool init_start_response_type(PyObject* module) {
  PyObject* type = PyType_FromSpec(&start_response_spec);
  if (!type) return false;
  start_response_type = reinterpret_cast<PyTypeObject*>(type);
  Py_INCREF(type);
  return PyModule_AddObject(module, "StartResponse", type) == 0;
}

PyObject* new_start_response(Response* owner) {
  auto* self = PyObject_New(StartResponseObject, start_response_type);
  if (!self) return nullptr;
  self->owner = owner;
  return reinterpret_cast<PyObject*>(self);
}

PyObject* bound_write(PyObject* start_response) {
  return PyCFunction_New(&write_method, start_response);
}

PyObject* bound_early_hints(PyObject* start_response) {
  return PyCFunction_New(&early_hints_method, start_response);
}

void detach_start_response(PyObject* start_response) noexcept {
  if (start_response) reinterpret_cast<StartResponseObject*>(start_response)->owner = nullptr;
}

}  // namespace monoceros::wsgi
