// EnvironBuilder: http::Request -> the WSGI environ dict, with gunicorn's keys and rules.
// A per-worker base dict of constants is copied per request; keys are interned once and the
// HTTP_* key of each header name is cached, so a request costs one dict copy and its values.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "http/errors.hpp"
#include "http/proxy_protocol.hpp"
#include "http/request.hpp"
#include "wsgi/py_ref.hpp"
#include "wsgi/python.hpp"

namespace monoceros::wsgi {

struct EnvironSettings {
  bool multiprocess = false;    // wsgi.multiprocess: workers > 1
  bool multithread = false;     // wsgi.multithread
  PyObject* errors = nullptr;   // wsgi.errors (borrowed; the builder keeps a reference)
  std::string server_software;  // SERVER_SOFTWARE, e.g. "monoceros/0.1.0"
  std::string script_name;      // the process's SCRIPT_NAME environment variable
  // secure_scheme_headers: upper-case name -> value meaning https (trusted peers only).
  std::vector<std::pair<std::string, std::string>> secure_scheme_headers;
};

// What the environ needs to know about the connection a request arrived on.
struct ConnectionFacts {
  std::string_view remote_addr;  // numeric host; for unix sockets the peer path (often "")
  int remote_port = -1;          // -1: no REMOTE_PORT (unix sockets)
  std::string_view server_name;  // listener address, or the socket path for unix listeners
  std::string_view server_port;  // "" for unix listeners (Host decides)
  bool unix_listener = false;
  bool peer_trusted = false;  // peer in forwarded_allow_ips
  int fd = -1;                // the client socket, for gunicorn.socket
  int family = 0;
  // Set when a PROXY protocol header opened the connection: PROXY_* keys, and the client's
  // address replaces the proxy's in REMOTE_ADDR/REMOTE_PORT when the header carried one.
  const http::ProxyInfo* proxy = nullptr;
};

class EnvironBuilder {
 public:
  // Throws std::runtime_error if the interpreter cannot create the constants.
  explicit EnvironBuilder(const EnvironSettings& settings);
  EnvironBuilder(const EnvironBuilder&) = delete;
  EnvironBuilder& operator=(const EnvironBuilder&) = delete;
  ~EnvironBuilder();

  // A new environ (new reference). Null with `rejected` set for a request the app must not
  // see (conflicting scheme headers: 400; PATH_INFO outside SCRIPT_NAME: 500), or null with a
  // Python error set.
  // `client_socket` holds the gunicorn.socket object, a Python socket over the connection's
  // own descriptor: made here when empty, reused for the connection's later requests. The
  // caller detaches it (never closes it) when the connection ends.
  PyObject* build(const http::Request& request, const ConnectionFacts& connection, PyObject* input,
                  PyObject* early_hints, PyRef& client_socket, http::ParseError& rejected);

 private:
  PyObject* header_key(std::string_view name);
  PyObject* method_value(std::string_view method);
  bool set(PyObject* environ, PyObject* key, PyObject* value);  // steals value
  PyObject* make_client_socket(const ConnectionFacts& connection);

  EnvironSettings settings_;
  PyRef base_;
  PyRef socket_class_;
  std::unordered_map<std::string, PyObject*> header_keys_;  // raw name -> interned key
  std::unordered_map<std::string, PyObject*> methods_;      // method -> interned value
  std::string scratch_;
};

}  // namespace monoceros::wsgi
