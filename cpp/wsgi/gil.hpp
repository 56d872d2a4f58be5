// The GIL policy, written once: the worker thread holds the GIL except while it waits on the
// kernel (epoll_wait, blocking waits), so the app's own threads can run there.
#pragma once

#include "wsgi/python.hpp"

namespace monoceros::wsgi {

// Releases the GIL for the lifetime of the object; the calling thread must hold it.
class GilReleased {
 public:
  GilReleased() noexcept : state_(PyEval_SaveThread()) {}
  GilReleased(const GilReleased&) = delete;
  GilReleased& operator=(const GilReleased&) = delete;
  ~GilReleased() { PyEval_RestoreThread(state_); }

 private:
  PyThreadState* state_;
};

// Holds the GIL for the lifetime of the object, from any thread, whether or not it is held.
class GilHeld {
 public:
  GilHeld() noexcept : state_(PyGILState_Ensure()) {}
  GilHeld(const GilHeld&) = delete;
  GilHeld& operator=(const GilHeld&) = delete;
  ~GilHeld() { PyGILState_Release(state_); }

 private:
  PyGILState_STATE state_;
};

}  // namespace monoceros::wsgi
