// PyRef: an owned reference to a Python object, released exactly once (GIL held).
#pragma once

#include <utility>

#include "wsgi/python.hpp"

namespace monoceros::wsgi {

class PyRef {
 public:
  PyRef() noexcept = default;
  // Takes ownership of a new reference (may be null).
  static PyRef steal(PyObject* object) noexcept { return PyRef(object); }
  // Adds a reference to a borrowed object.
  static PyRef borrow(PyObject* object) noexcept {
    Py_XINCREF(object);
    return PyRef(object);
  }
  PyRef(const PyRef&) = delete;
  PyRef& operator=(const PyRef&) = delete;
  PyRef(PyRef&& other) noexcept : object_(other.release()) {}
  PyRef& operator=(PyRef&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  ~PyRef() { Py_XDECREF(object_); }

  PyObject* get() const noexcept { return object_; }
  explicit operator bool() const noexcept { return object_ != nullptr; }
  PyObject* release() noexcept { return std::exchange(object_, nullptr); }
  // A new reference for the caller, keeping ours.
  PyObject* new_reference() const noexcept {
    Py_XINCREF(object_);
    return object_;
  }
  void reset(PyObject* object = nullptr) noexcept {
    PyObject* old = std::exchange(object_, object);
    Py_XDECREF(old);
  }

 private:
  explicit PyRef(PyObject* object) noexcept : object_(object) {}
  PyObject* object_ = nullptr;
};

}  // namespace monoceros::wsgi
