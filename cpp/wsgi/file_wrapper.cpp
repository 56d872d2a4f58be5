// wsgi.file_wrapper: wraps a file so the server can send it with sendfile(2). When sendfile
// does not apply (no fileno, disabled, not a regular file) the wrapper iterates in blocks.
#include "wsgi/file_wrapper.hpp"

#include <structmember.h>

namespace monoceros::wsgi {
namespace {

struct FileWrapperObject {
  PyObject_HEAD PyObject* filelike;
  Py_ssize_t block_size;
};

PyTypeObject* wrapper_type = nullptr;

PyObject* wrapper_new(PyTypeObject* type, PyObject* args, PyObject* kwargs) {
  static const char* keywords[] = {"filelike", "blksize", nullptr};
  PyObject* filelike = nullptr;
  Py_ssize_t block_size = 8192;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|n:FileWrapper", const_cast<char**>(keywords),
                                   &filelike, &block_size)) {
    return nullptr;
  }
  if (block_size <= 0) {
    PyErr_SetString(PyExc_ValueError, "blksize must be positive");
    return nullptr;
  }
  auto* self = reinterpret_cast<FileWrapperObject*>(type->tp_alloc(type, 0));
  if (!self) return nullptr;
  Py_INCREF(filelike);
  self->filelike = filelike;
  self->block_size = block_size;
  return reinterpret_cast<PyObject*>(self);
}

PyObject* wrapper_iternext(PyObject* object) {
  auto* self = reinterpret_cast<FileWrapperObject*>(object);
  PyObject* data = PyObject_CallMethod(self->filelike, "read", "n", self->block_size);
  if (!data) return nullptr;
  if (PyObject_IsTrue(data) == 1) return data;
  Py_DECREF(data);
  return nullptr;  // empty read: StopIteration
}

// PEP 3333: close() of the wrapper closes the file, if the file can be closed.
PyObject* wrapper_close(PyObject* object, PyObject*) {
  auto* self = reinterpret_cast<FileWrapperObject*>(object);
  if (PyObject_HasAttrString(self->filelike, "close")) {
    PyObject* result = PyObject_CallMethod(self->filelike, "close", nullptr);
    if (!result) return nullptr;
    Py_DECREF(result);
  }
  Py_RETURN_NONE;
}

int wrapper_traverse(PyObject* object, visitproc visit, void* arg) {
  Py_VISIT(reinterpret_cast<FileWrapperObject*>(object)->filelike);
  Py_VISIT(Py_TYPE(object));
  return 0;
}

int wrapper_clear(PyObject* object) {
  Py_CLEAR(reinterpret_cast<FileWrapperObject*>(object)->filelike);
  return 0;
}

void wrapper_dealloc(PyObject* object) {
  PyObject_GC_UnTrack(object);
  wrapper_clear(object);
  PyTypeObject* type = Py_TYPE(object);
  type->tp_free(object);
  Py_DECREF(type);
}

PyMethodDef wrapper_methods[] = {
    {"close", wrapper_close, METH_NOARGS, "Close the wrapped file if it has close()."},
    {nullptr, nullptr, 0, nullptr}};

PyMemberDef wrapper_members[] = {{const_cast<char*>("filelike"), T_OBJECT_EX,
                                  offsetof(FileWrapperObject, filelike), READONLY, nullptr},
                                 {const_cast<char*>("blksize"), T_PYSSIZET,
                                  offsetof(FileWrapperObject, block_size), READONLY, nullptr},
                                 {nullptr, 0, 0, 0, nullptr}};

PyType_Slot wrapper_slots[] = {
    {Py_tp_new, reinterpret_cast<void*>(wrapper_new)},
    {Py_tp_dealloc, reinterpret_cast<void*>(wrapper_dealloc)},
    {Py_tp_traverse, reinterpret_cast<void*>(wrapper_traverse)},
    {Py_tp_clear, reinterpret_cast<void*>(wrapper_clear)},
    {Py_tp_iter, reinterpret_cast<void*>(PyObject_SelfIter)},
    {Py_tp_iternext, reinterpret_cast<void*>(wrapper_iternext)},
    {Py_tp_methods, wrapper_methods},
    {Py_tp_members, wrapper_members},
    {Py_tp_doc, const_cast<char*>("FileWrapper(filelike, blksize=8192): wsgi.file_wrapper.")},
    {0, nullptr}};

PyType_Spec wrapper_spec = {"monoceros._core.FileWrapper", sizeof(FileWrapperObject), 0,
                            Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC, wrapper_slots};

}  // namespace

bool init_file_wrapper_type(PyObject* module) {
  PyObject* type = PyType_FromSpec(&wrapper_spec);
  if (!type) return false;
  wrapper_type = reinterpret_cast<PyTypeObject*>(type);
  Py_INCREF(type);
  return PyModule_AddObject(module, "FileWrapper", type) == 0;
}

PyObject* file_wrapper_type() noexcept {
  return reinterpret_cast<PyObject*>(wrapper_type);
}

bool unwrap_file_wrapper(PyObject* result, PyObject** filelike, Py_ssize_t* block_size) noexcept {
  if (Py_TYPE(result) != wrapper_type) return false;
  auto* self = reinterpret_cast<FileWrapperObject*>(result);
  *filelike = self->filelike;
  *block_size = self->block_size;
  return true;
}

}  // namespace monoceros::wsgi
