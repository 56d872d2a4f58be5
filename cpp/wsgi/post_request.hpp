// The post_request server hook: called after each response with what gunicorn passes it.
#pragma once

#include "wsgi/python.hpp"
#include "wsgi/response.hpp"

namespace monoceros::wsgi {

// Calls hook(environ, status, headers, sent, content_length) for a finished response. Skipped
// while an exception (SystemExit...) is on its way out; the hook's own errors are reported
// as unraisable, never propagated.
void run_post_request(PyObject* hook, PyObject* environ, const Response& response) noexcept;

}  // namespace monoceros::wsgi
