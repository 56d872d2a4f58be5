// The post_request server hook: called after each response with what gunicorn passes it.
#include "wsgi/post_request.hpp"

#include "wsgi/py_ref.hpp"

namespace monoceros::wsgi {

void run_post_request(PyObject* hook, PyObject* environ, const Response& response) noexcept {
  // gunicorn runs post_request after every request, failed ones included; but not while an
  // exception such as SystemExit is on its way out of the worker.
  if (PyErr_Occurred()) return;
  PyRef headers = PyRef::steal(PyList_New(0));
  if (!headers) {
    PyErr_Clear();
    return;
  }
  for (const auto& [name, value] : response.headers()) {
    PyRef pair =
        PyRef::steal(Py_BuildValue("(s#s#)", name.data(), static_cast<Py_ssize_t>(name.size()),
                                   value.data(), static_cast<Py_ssize_t>(value.size())));
    if (!pair || PyList_Append(headers.get(), pair.get()) != 0) {
      PyErr_Clear();
      return;
    }
  }
  PyRef status = response.status().empty()
                     ? PyRef::borrow(Py_None)
                     : PyRef::steal(PyUnicode_DecodeLatin1(
                           response.status().data(),
                           static_cast<Py_ssize_t>(response.status().size()), nullptr));
  PyRef sent = PyRef::steal(PyLong_FromUnsignedLongLong(response.body_bytes()));
  PyRef length = response.has_content_length()
                     ? PyRef::steal(PyLong_FromUnsignedLongLong(response.content_length()))
                     : PyRef::borrow(Py_None);
  if (!status || !sent || !length) {
    PyErr_Clear();
    return;
  }
  // The Python side logs the hook's own exceptions; whatever still escapes is reported here.
  PyRef outcome = PyRef::steal(PyObject_CallFunctionObjArgs(
      hook, environ, status.get(), headers.get(), sent.get(), length.get(), nullptr));
  if (!outcome) PyErr_WriteUnraisable(hook);
}

}  // namespace monoceros::wsgi
