// ClientSocket: environ['gunicorn.socket'], a Python socket over the connection's descriptor.
#include "wsgi/client_socket.hpp"

namespace monoceros::wsgi {

bool ClientSocket::closed_by_app() noexcept {
  if (!socket_ || closed_by_app_) return closed_by_app_;
  PyObject *type, *value, *traceback;
  PyErr_Fetch(&type, &value, &traceback);
  PyRef fileno = PyRef::steal(PyObject_CallMethod(socket_.get(), "fileno", nullptr));
  closed_by_app_ = fileno && PyLong_AsLong(fileno.get()) < 0;
  if (!fileno || PyErr_Occurred()) PyErr_Clear();
  PyErr_Restore(type, value, traceback);
  return closed_by_app_;
}

void ClientSocket::release() noexcept {
  if (!socket_) return;
  // gunicorn.socket is a Python socket over our own descriptor (as in gunicorn, where it is
  // the connection's socket). It is detached, never closed, when the connection ends: the
  // object, if an app keeps it, then reads as closed and cannot reach a reused descriptor.
  // If the app closed it, detach() finds nothing to give back (see closed_by_app).
  closed_by_app();
  PyObject *type, *value, *traceback;
  PyErr_Fetch(&type, &value, &traceback);
  PyRef outcome = PyRef::steal(PyObject_CallMethod(socket_.get(), "detach", nullptr));
  if (!outcome) PyErr_Clear();
  PyErr_Restore(type, value, traceback);
  socket_.reset();
}

}  // namespace monoceros::wsgi
