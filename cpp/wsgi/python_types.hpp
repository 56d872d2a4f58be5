// Registers the Python types the WSGI bridge hands to apps (wsgi.input, file_wrapper,
// start_response) in the extension module.
#pragma once

#include "wsgi/python.hpp"

namespace monoceros::wsgi {

// False with a Python error set on failure.
bool init_python_types(PyObject* module);

}  // namespace monoceros::wsgi
