// The start_response callable (with its write() and early_hints() companions) that the app
// receives. A thin Python object forwarding to its Response, detached once the response ends.
#pragma once

#include "wsgi/python.hpp"

namespace monoceros::wsgi {

class Response;

bool init_start_response_type(PyObject* module);

// New reference to a start_response object bound to `owner`.
PyObject* new_start_response(Response* owner);
// New references to the write() and early_hints() callables of a start_response object.
PyObject* bound_write(PyObject* start_response);
PyObject* bound_early_hints(PyObject* start_response);
// After the response ended: later calls raise instead of touching freed memory.
void detach_start_response(PyObject* start_response) noexcept;

}  // namespace monoceros::wsgi
