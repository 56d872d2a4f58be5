// Python references dropped by a thread that does not hold the GIL. The gthread worker's
// event loop writes responses to slow clients without the GIL; the Python bytes and files it
// has finished sending are released later, by a thread that holds it.
#pragma once

#include "wsgi/python.hpp"

namespace monoceros::wsgi {

// Drops one reference to `object`: at once if this thread holds the GIL, else it waits for
// release_deferred().
void release_reference(PyObject* object) noexcept;

// Drops the references that waited. The GIL must be held.
void release_deferred() noexcept;

}  // namespace monoceros::wsgi
