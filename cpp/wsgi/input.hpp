// wsgi.input: read / readline / readlines / iteration over a fully received request body.
#pragma once

#include <memory>

#include "wsgi/python.hpp"
#include "wsgi/request_body.hpp"

namespace monoceros::wsgi {

// Registers the InputStream type in `module`; false with a Python error set on failure.
bool init_input_type(PyObject* module);

// A new wsgi.input object owning `body` (null means an empty body). New reference or null.
PyObject* new_input(std::unique_ptr<RequestBody> body);

}  // namespace monoceros::wsgi
