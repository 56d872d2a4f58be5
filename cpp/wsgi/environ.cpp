// EnvironBuilder: http::Request -> the WSGI environ dict, with gunicorn's keys and rules.
#include "wsgi/environ.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <optional>
#include <stdexcept>

#include "http/char_class.hpp"
#include "http/percent.hpp"
#include "wsgi/file_wrapper.hpp"

namespace monoceros::wsgi {
namespace {

// Hostile clients can send endless distinct header names; past this many, keys are built per
// request instead of cached, so the cache cannot grow without bound.
constexpr std::size_t kMaxCachedKeys = 512;

struct Keys {
  PyObject* request_method;
  PyObject* query_string;
  PyObject* raw_uri;
  PyObject* server_protocol;
  PyObject* path_info;
  PyObject* script_name;
  PyObject* url_scheme;
  PyObject* input;
  PyObject* early_hints;
  PyObject* socket;
  PyObject* remote_addr;
  PyObject* remote_port;
  PyObject* server_name;
  PyObject* server_port;
  PyObject* content_type;
  PyObject* content_length;
  PyObject* http_1_0;
  PyObject* http_1_1;
  PyObject* http;
  PyObject* https;
  PyObject* proxy_protocol;
  PyObject* proxy_addr;
  PyObject* proxy_port;
};

Keys keys{};

PyObject* intern(const char* text) {
  PyObject* value = PyUnicode_InternFromString(text);
  if (!value) throw std::runtime_error("cannot intern environ keys");
  return value;
}

void init_keys() {
  if (keys.request_method) return;
  keys = Keys{.request_method = intern("REQUEST_METHOD"),
              .query_string = intern("QUERY_STRING"),
              .raw_uri = intern("RAW_URI"),
              .server_protocol = intern("SERVER_PROTOCOL"),
              .path_info = intern("PATH_INFO"),
              .script_name = intern("SCRIPT_NAME"),
              .url_scheme = intern("wsgi.url_scheme"),
              .input = intern("wsgi.input"),
              .early_hints = intern("wsgi.early_hints"),
              .socket = intern("gunicorn.socket"),
              .remote_addr = intern("REMOTE_ADDR"),
              .remote_port = intern("REMOTE_PORT"),
              .server_name = intern("SERVER_NAME"),
              .server_port = intern("SERVER_PORT"),
              .content_type = intern("CONTENT_TYPE"),
              .content_length = intern("CONTENT_LENGTH"),
              .http_1_0 = intern("HTTP/1.0"),
              .http_1_1 = intern("HTTP/1.1"),
              .http = intern("http"),
              .https = intern("https"),
              .proxy_protocol = intern("PROXY_PROTOCOL"),
              .proxy_addr = intern("PROXY_ADDR"),
              .proxy_port = intern("PROXY_PORT")};
  // A member left out above would be null and crash the first request that uses it.
  static_assert(sizeof(Keys) % sizeof(PyObject*) == 0);
  const auto* all = reinterpret_cast<PyObject* const*>(&keys);
  for (std::size_t i = 0; i < sizeof(Keys) / sizeof(PyObject*); ++i) {
    if (!all[i]) throw std::runtime_error("an environ key was not interned");
  }
}

PyObject* latin1(std::string_view text) {
  return PyUnicode_DecodeLatin1(text.data(), static_cast<Py_ssize_t>(text.size()), nullptr);
}

void put_constant(PyObject* dict, const char* key, PyObject* value) {
  if (!value || PyDict_SetItemString(dict, key, value) != 0) {
    Py_XDECREF(value);
    throw std::runtime_error(std::string("cannot build the base environ at ") + key);
  }
  Py_DECREF(value);
}

// "HTTP_" + upper-cased name with '-' as '_'; CONTENT-TYPE and CONTENT-LENGTH lose the prefix.
std::string environ_key_text(std::string_view name) {
  if (http::equals_ignore_case(name, "content-type")) return "CONTENT_TYPE";
  if (http::equals_ignore_case(name, "content-length")) return "CONTENT_LENGTH";
  std::string key = "HTTP_";
  for (char c : name) {
    key.push_back(c == '-' ? '_' : (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c);
  }
  return key;
}

// The (name, port) of a Host value: "h", "h:8000", "[::1]:8000".
std::pair<std::string_view, std::string_view> split_host(std::string_view host) {
  std::size_t colon = std::string_view::npos;
  if (!host.empty() && host.front() == '[') {
    const std::size_t close = host.find(']');
    if (close != std::string_view::npos && close + 1 < host.size() && host[close + 1] == ':') {
      colon = close + 1;
    }
  } else {
    colon = host.find(':');
  }
  if (colon == std::string_view::npos) return {host, {}};
  return {host.substr(0, colon), host.substr(colon + 1)};
}

}  // namespace

EnvironBuilder::EnvironBuilder(const EnvironSettings& settings) : settings_(settings) {
  init_keys();
  Py_XINCREF(settings_.errors);
  base_ = PyRef::steal(PyDict_New());
  if (!base_) throw std::runtime_error("cannot create the base environ");
  PyObject* base = base_.get();
  put_constant(base, "wsgi.version", Py_BuildValue("(ii)", 1, 0));
  put_constant(base, "wsgi.multithread", PyBool_FromLong(settings_.multithread));
  put_constant(base, "wsgi.multiprocess", PyBool_FromLong(settings_.multiprocess));
  put_constant(base, "wsgi.run_once", PyBool_FromLong(0));
  put_constant(base, "wsgi.input_terminated", PyBool_FromLong(1));
  put_constant(base, "wsgi.file_wrapper", Py_NewRef(file_wrapper_type()));
  put_constant(base, "wsgi.errors", Py_NewRef(settings_.errors ? settings_.errors : Py_None));
  put_constant(base, "SERVER_SOFTWARE", latin1(settings_.server_software));
  put_constant(base, "SCRIPT_NAME", latin1(settings_.script_name));
  PyRef socket_module = PyRef::steal(PyImport_ImportModule("socket"));
  if (socket_module)
    socket_class_ = PyRef::steal(PyObject_GetAttrString(socket_module.get(), "socket"));
  if (!socket_class_) throw std::runtime_error("cannot import socket.socket");
}

EnvironBuilder::~EnvironBuilder() {
  for (auto& entry : header_keys_)
    Py_DECREF(entry.second);
  for (auto& entry : methods_)
    Py_DECREF(entry.second);
  Py_XDECREF(settings_.errors);
}

PyObject* EnvironBuilder::header_key(std::string_view name) {
  scratch_.assign(name);
  if (auto found = header_keys_.find(scratch_); found != header_keys_.end()) {
    return Py_NewRef(found->second);
  }
  const std::string text = environ_key_text(name);
  PyObject* key =
      PyUnicode_DecodeLatin1(text.data(), static_cast<Py_ssize_t>(text.size()), nullptr);
  if (!key) return nullptr;
  PyUnicode_InternInPlace(&key);
  if (header_keys_.size() < kMaxCachedKeys) header_keys_.emplace(scratch_, Py_NewRef(key));
  return key;
}

PyObject* EnvironBuilder::method_value(std::string_view method) {
  scratch_.assign(method);
  if (auto found = methods_.find(scratch_); found != methods_.end())
    return Py_NewRef(found->second);
  PyObject* value = latin1(method);
  if (value && methods_.size() < 64) {
    PyUnicode_InternInPlace(&value);
    methods_.emplace(scratch_, Py_NewRef(value));
  }
  return value;
}

bool EnvironBuilder::set(PyObject* environ, PyObject* key, PyObject* value) {
  if (!value) return false;
  const int status = PyDict_SetItem(environ, key, value);
  Py_DECREF(value);
  return status == 0;
}

PyObject* EnvironBuilder::make_client_socket(const ConnectionFacts& connection) {
  // Over the connection's own descriptor, as gunicorn's is the connection socket: no dup per
  // request, no second descriptor per connection. The worker detaches it (never closes it)
  // when the connection ends.
  return PyObject_CallFunction(socket_class_.get(), "iiii", connection.family, SOCK_STREAM, 0,
                               connection.fd);
}

PyObject* EnvironBuilder::build(const http::Request& request, const ConnectionFacts& connection,
                                PyObject* input, PyObject* early_hints, PyRef& client_socket,
                                http::ParseError& rejected) {
  rejected = http::ParseError::none;
  PyRef environ_ref = PyRef::steal(PyDict_Copy(base_.get()));
  PyObject* environ = environ_ref.get();
  if (!environ) return nullptr;

  std::string_view host;
  std::string_view script_name = settings_.script_name;
  std::optional<bool> https;
  for (const http::Header& header : request.headers) {
    PyRef key = PyRef::steal(header_key(header.name));
    if (!key) return nullptr;
    PyRef value = PyRef::steal(latin1(header.value));
    if (!value) return nullptr;
    const bool is_content_header =
        key.get() == keys.content_type || key.get() == keys.content_length;
    if (!is_content_header) {
      // gunicorn joins repeated fields with a bare ",".
      if (PyObject* existing = PyDict_GetItemWithError(environ, key.get())) {
        PyRef comma = PyRef::steal(PyUnicode_FromString(","));
        PyRef joined = PyRef::steal(comma ? PyUnicode_Concat(existing, comma.get()) : nullptr);
        value = PyRef::steal(joined ? PyUnicode_Concat(joined.get(), value.get()) : nullptr);
        if (!value) return nullptr;
      } else if (PyErr_Occurred()) {
        return nullptr;
      }
    }
    if (PyDict_SetItem(environ, key.get(), value.get()) != 0) return nullptr;
    if (http::equals_ignore_case(header.name, "host")) {
      host = header.value;
    } else if (http::equals_ignore_case(header.name, "script_name")) {
      script_name = header.value;  // only present when a trusted forwarder sent it
    }
    if (connection.peer_trusted) {
      for (const auto& [secure_name, secure_value] : settings_.secure_scheme_headers) {
        if (!http::equals_ignore_case(header.name, secure_name)) continue;
        const bool says_https = header.value == secure_value;
        if (https && *https != says_https) {
          rejected = http::ParseError::invalid_scheme_headers;
          return nullptr;
        }
        https = says_https;
      }
    }
  }

  std::string_view path = request.path;
  if (!script_name.empty()) {
    if (path.substr(0, script_name.size()) != script_name) {
      rejected = http::ParseError::configuration_problem;
      return nullptr;
    }
    path.remove_prefix(script_name.size());
    if (!set(environ, keys.script_name, latin1(script_name))) return nullptr;
  }
  PyObject* path_info;
  if (path.find('%') == std::string_view::npos) {
    path_info = latin1(path);
  } else {
    std::string decoded;
    http::percent_decode(path, decoded);
    path_info = latin1(decoded);
  }
  if (!set(environ, keys.path_info, path_info)) return nullptr;

  PyObject* protocol;
  if (request.version_major == 1 && request.version_minor <= 1) {
    protocol = Py_NewRef(request.version_minor == 1 ? keys.http_1_1 : keys.http_1_0);
  } else {
    protocol = PyUnicode_FromFormat("HTTP/%d.%d", request.version_major, request.version_minor);
  }
  const bool scheme_https = https.value_or(false);
  if (!set(environ, keys.request_method, method_value(request.method)) ||
      !set(environ, keys.query_string, latin1(request.query)) ||
      !set(environ, keys.raw_uri, latin1(request.target)) ||
      !set(environ, keys.server_protocol, protocol) ||
      !set(environ, keys.url_scheme, Py_NewRef(scheme_https ? keys.https : keys.http)) ||
      !set(environ, keys.input, Py_NewRef(input)) ||
      !set(environ, keys.early_hints, Py_NewRef(early_hints)) ||
      !(client_socket || (client_socket = PyRef::steal(make_client_socket(connection)))) ||
      PyDict_SetItem(environ, keys.socket, client_socket.get()) != 0 ||
      !set(environ, keys.remote_addr, latin1(connection.remote_addr))) {
    return nullptr;
  }
  if (connection.remote_port >= 0 &&
      !set(environ, keys.remote_port, PyUnicode_FromFormat("%d", connection.remote_port))) {
    return nullptr;
  }
  if (const http::ProxyInfo* proxy = connection.proxy) {
    if (!set(environ, keys.proxy_protocol, latin1(proxy->protocol))) return nullptr;
    if (proxy->has_addresses &&
        (!set(environ, keys.remote_addr, latin1(proxy->client_addr)) ||
         !set(environ, keys.remote_port, PyUnicode_FromFormat("%d", proxy->client_port)) ||
         !set(environ, keys.proxy_addr, latin1(proxy->proxy_addr)) ||
         !set(environ, keys.proxy_port, PyUnicode_FromFormat("%d", proxy->proxy_port)))) {
      return nullptr;
    }
  }
  std::string_view server_name = connection.server_name;
  std::string_view server_port = connection.server_port;
  if (connection.unix_listener && !host.empty()) {
    const auto [name, port] = split_host(host);
    server_name = name;
    server_port = !port.empty() ? port : scheme_https ? "443" : "80";
  }
  if (!set(environ, keys.server_name, latin1(server_name)) ||
      !set(environ, keys.server_port, latin1(server_port))) {
    return nullptr;
  }
  return environ_ref.release();
}

}  // namespace monoceros::wsgi
