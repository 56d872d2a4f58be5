// wsgi.file_wrapper: wraps a file so the server can send it with sendfile(2).
#pragma once

#include "wsgi/python.hpp"

namespace monoceros::wsgi {

bool init_file_wrapper_type(PyObject* module);

// The FileWrapper type (for environ['wsgi.file_wrapper'] and the isinstance check).
PyObject* file_wrapper_type() noexcept;

// If `result` is exactly a FileWrapper, its filelike and block size; else false.
bool unwrap_file_wrapper(PyObject* result, PyObject** filelike, Py_ssize_t* block_size) noexcept;

}  // namespace monoceros::wsgi
