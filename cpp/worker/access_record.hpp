// The access-log line for one finished request, formatted in C++ and handed to the
// gunicorn.access logger (so users' logging configuration still decides where it goes).
#pragma once

#include <cstdint>
#include <string_view>

#include "http/request.hpp"
#include "log/access_log.hpp"
#include "wsgi/python.hpp"
#include "wsgi/response.hpp"

namespace monoceros::worker {

struct AccessFacts {
  const http::Request& request;
  const wsgi::Response& response;
  PyObject* environ;  // may be null when the environ could not be built
  std::string_view remote_addr;
  std::int64_t duration_ns;
};

// Formats the line and calls sink(line); errors in the sink are reported, never raised.
void write_access_record(const log::AccessLog& format, PyObject* sink, const AccessFacts& facts);

}  // namespace monoceros::worker
