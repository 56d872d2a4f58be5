// Python references dropped by a thread that does not hold the GIL.
#include "wsgi/deferred_release.hpp"

#include <atomic>
#include <mutex>
#include <vector>

namespace monoceros::wsgi {
namespace {

std::mutex waiting_mutex;
std::vector<PyObject*> waiting;
std::atomic<bool> any_waiting{false};  // lets release_deferred() skip the lock when idle

}  // namespace

void release_reference(PyObject* object) noexcept {
  if (PyGILState_Check()) {
    Py_DECREF(object);
    return;
  }
  try {
    std::lock_guard lock(waiting_mutex);
    waiting.push_back(object);
    any_waiting.store(true, std::memory_order_release);
  } catch (...) {
    // Out of memory: the object leaks rather than being freed without the GIL.
  }
}

void release_deferred() noexcept {
  if (!any_waiting.load(std::memory_order_acquire)) return;
  std::vector<PyObject*> taken;
  {
    std::lock_guard lock(waiting_mutex);
    taken.swap(waiting);
    any_waiting.store(false, std::memory_order_relaxed);
  }
  for (PyObject* object : taken)
    Py_DECREF(object);
}

}  // namespace monoceros::wsgi
