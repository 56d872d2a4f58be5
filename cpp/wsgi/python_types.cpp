// Registers the Python types the WSGI bridge hands to apps (wsgi.input, file_wrapper,
// start_response) in the extension module.
#include "wsgi/python_types.hpp"

#include "wsgi/file_wrapper.hpp"
#include "wsgi/input.hpp"
#include "wsgi/start_response.hpp"

namespace monoceros::wsgi {

bool init_python_types(PyObject* module) {
  return init_input_type(module) && init_file_wrapper_type(module) &&
         init_start_response_type(module);
}

}  // namespace monoceros::wsgi
