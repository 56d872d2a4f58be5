// ClientSocket: environ['gunicorn.socket'], a Python socket over the connection's descriptor.
#pragma once

#include "wsgi/py_ref.hpp"
#include "wsgi/python.hpp"

namespace monoceros::wsgi {

class ClientSocket {
 public:
  // Where EnvironBuilder::build puts the object, once an app's environ needs it.
  PyRef& slot() noexcept { return socket_; }
  bool held() const noexcept { return static_cast<bool>(socket_); }
  // Whether the app closed the socket, and with it the connection's descriptor. GIL held.
  bool closed_by_app() noexcept;
  // What closed_by_app() (or release()) last found, without asking Python.
  bool found_closed_by_app() const noexcept { return closed_by_app_; }
  // Lets go of the object without closing the descriptor (GIL held); idempotent.
  void release() noexcept;

 private:
  PyRef socket_;
  bool closed_by_app_ = false;
};

}  // namespace monoceros::wsgi
