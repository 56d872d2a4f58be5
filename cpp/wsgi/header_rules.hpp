// What an app may put in start_response: a valid status and header fields, as latin-1 bytes.
// The same discipline as inbound parsing (CVE-2018-1000164 class): never emit CR, LF or NUL.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "wsgi/python.hpp"
#include "wsgi/response.hpp"

namespace monoceros::wsgi {

// Appends the latin-1 bytes of a str to `out`; false with a Python error set otherwise.
bool append_latin1(PyObject* text, std::string& out);

// Validates "200 OK"-style status text; sets `code`. False with a Python error set.
bool parse_status(PyObject* status, std::string& text, int& code);

struct CollectedHeaders {
  HeaderList headers;  // validated, hop-by-hop removed, values trimmed of SP/HTAB
  bool has_content_length = false;
  std::uint64_t content_length = 0;
  // The app answered `Connection: upgrade` (a websocket handshake): the head says upgrade, not
  // close, and the app's `Upgrade: websocket` is kept. Other hop-by-hop fields are dropped.
  bool upgrade = false;
};

// Validates a header list from the app. False with a Python error set.
bool collect_headers(PyObject* headers, CollectedHeaders& out);

}  // namespace monoceros::wsgi
