// The settings structs bound as nanobind classes: filled in Python, read in C++ as they are.
#include "bindings/config_bindings.hpp"

#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include "arbiter/config.hpp"
#include "http/parser.hpp"
#include "http/proxy_protocol.hpp"
#include "log/statsd.hpp"
#include "net/listener.hpp"
#include "worker/config.hpp"
#include "wsgi/environ.hpp"
#include "wsgi/response.hpp"

namespace nb = nanobind;

namespace monoceros::bindings {

namespace {

// A settings class: made empty, then filled attribute by attribute. copy.copy() copies it, so
// that a worker can take the master's WorkerConfig and change only its own max_requests. The
// Python objects some structs carry (hooks, sinks) are not bound: they are not settings but
// constructor arguments of Worker and Arbiter.
template <typename T>
nb::class_<T> settings_class(nb::handle scope, const char* name, const char* doc) {
  nb::class_<T> cls(scope, name, doc);
  cls.def(nb::init<>())
      .def("__copy__", [](const T& self) { return T(self); })
      .def("__deepcopy__", [](const T& self, nb::handle) { return T(self); }, nb::arg("memo"));
  return cls;
}

void bind_parts(nb::module_& module) {
  nb::enum_<http::UnderscoreHeaders>(module, "UnderscoreHeaders",
                                     "header_map: what to do with a field name containing '_'.")
      .value("drop", http::UnderscoreHeaders::drop)
      .value("refuse", http::UnderscoreHeaders::refuse)
      .value("dangerous", http::UnderscoreHeaders::dangerous);

  nb::enum_<http::ProxyProtocolMode>(module, "ProxyProtocolMode",
                                     "proxy_protocol: which PROXY header versions are expected.")
      .value("off", http::ProxyProtocolMode::off)
      .value("v1", http::ProxyProtocolMode::v1)
      .value("v2", http::ProxyProtocolMode::v2)
      .value("any", http::ProxyProtocolMode::any);

  settings_class<http::ParserOptions>(module, "ParserOptions",
                                      "The HTTP parser's limits and leniencies.")
      .def_rw("limit_request_line", &http::ParserOptions::limit_request_line)
      .def_rw("limit_request_fields", &http::ParserOptions::limit_request_fields)
      .def_rw("limit_request_field_size", &http::ParserOptions::limit_request_field_size)
      .def_rw("permit_obsolete_folding", &http::ParserOptions::permit_obsolete_folding)
      .def_rw("strip_header_spaces", &http::ParserOptions::strip_header_spaces)
      .def_rw("permit_unconventional_http_method",
              &http::ParserOptions::permit_unconventional_http_method)
      .def_rw("permit_unconventional_http_version",
              &http::ParserOptions::permit_unconventional_http_version)
      .def_rw("casefold_http_method", &http::ParserOptions::casefold_http_method)
      .def_rw("require_host", &http::ParserOptions::require_host)
      .def_rw("header_map", &http::ParserOptions::header_map)
      .def_rw("forwarder_headers", &http::ParserOptions::forwarder_headers)
      .def_rw("forwarder_headers_all", &http::ParserOptions::forwarder_headers_all);

  settings_class<wsgi::EnvironSettings>(module, "EnvironSettings",
                                        "The per-worker constants of the WSGI environ.")
      .def_rw("multiprocess", &wsgi::EnvironSettings::multiprocess)
      .def_rw("multithread", &wsgi::EnvironSettings::multithread)
      .def_rw("server_software", &wsgi::EnvironSettings::server_software)
      .def_rw("script_name", &wsgi::EnvironSettings::script_name)
      .def_rw("secure_scheme_headers", &wsgi::EnvironSettings::secure_scheme_headers);

  settings_class<wsgi::ResponseSettings>(module, "ResponseSettings",
                                         "How every response of a worker is sent.")
      .def_rw("server", &wsgi::ResponseSettings::server)
      .def_rw("sendfile", &wsgi::ResponseSettings::sendfile);

  settings_class<log::StatsdTarget>(module, "StatsdTarget",
                                    "A StatsD server: UDP host and port, or a unix socket path.")
      .def_rw("host", &log::StatsdTarget::host)
      .def_rw("port", &log::StatsdTarget::port)
      .def_rw("unix_path", &log::StatsdTarget::unix_path);

  auto listen_spec = settings_class<net::ListenSpec>(module, "ListenSpec",
                                                     "One bind address: TCP, unix socket or fd.");
  nb::enum_<net::ListenSpec::Kind>(listen_spec, "Kind", "What kind of address a ListenSpec is.")
      .value("tcp", net::ListenSpec::Kind::tcp)
      .value("unix_path", net::ListenSpec::Kind::unix_path)
      .value("fd", net::ListenSpec::Kind::fd);
  listen_spec.def_rw("kind", &net::ListenSpec::kind)
      .def_rw("host", &net::ListenSpec::host)
      .def_rw("port", &net::ListenSpec::port)
      .def_rw("path", &net::ListenSpec::path)
      .def_rw("owner_uid", &net::ListenSpec::owner_uid)
      .def_rw("owner_gid", &net::ListenSpec::owner_gid)
      .def_rw("fd", &net::ListenSpec::fd);
}

}  // namespace

void bind_config(nb::module_& module) {
  bind_parts(module);

  nb::enum_<worker::WorkerKind>(module, "WorkerKind",
                                "worker_class, resolved: sync, event or "
                                "gthread.")
      .value("sync", worker::WorkerKind::sync)
      .value("event", worker::WorkerKind::event)
      .value("gthread", worker::WorkerKind::gthread);

  using worker::WorkerConfig;
  settings_class<WorkerConfig>(module, "WorkerConfig",
                               "What a worker acts on; made once per configuration by the master.")
      .def_rw("kind", &WorkerConfig::kind)
      .def_rw("parser", &WorkerConfig::parser)
      .def_rw("forwarded_allow_ips", &WorkerConfig::forwarded_allow_ips)
      .def_rw("proxy_protocol", &WorkerConfig::proxy_protocol)
      .def_rw("proxy_allow_ips", &WorkerConfig::proxy_allow_ips)
      .def_rw("threads", &WorkerConfig::threads)
      .def_rw("keepalive", &WorkerConfig::keepalive)
      .def_rw("max_requests", &WorkerConfig::max_requests)
      .def_rw("worker_connections", &WorkerConfig::worker_connections)
      .def_rw("timeout", &WorkerConfig::timeout)
      .def_rw("limit_request_body", &WorkerConfig::limit_request_body)
      .def_rw("tmp_upload_dir", &WorkerConfig::tmp_upload_dir)
      .def_rw("body_spool_limit", &WorkerConfig::body_spool_limit)
      .def_rw("workers", &WorkerConfig::workers)
      .def_rw("environ", &WorkerConfig::environ)
      .def_rw("response", &WorkerConfig::response)
      .def_rw("access_log_format", &WorkerConfig::access_log_format)
      .def_rw("statsd", &WorkerConfig::statsd)
      .def_rw("statsd_prefix", &WorkerConfig::statsd_prefix)
      .def_rw("dogstatsd_tags", &WorkerConfig::dogstatsd_tags);

  using arbiter::ArbiterConfig;
  settings_class<ArbiterConfig>(module, "ArbiterConfig", "What the master process acts on.")
      .def_rw("binds", &ArbiterConfig::binds)
      .def_rw("backlog", &ArbiterConfig::backlog)
      .def_rw("workers", &ArbiterConfig::workers)
      .def_rw("timeout", &ArbiterConfig::timeout)
      .def_rw("graceful_timeout", &ArbiterConfig::graceful_timeout)
      .def_rw("umask", &ArbiterConfig::umask)
      .def_rw("worker_tmp_dir", &ArbiterConfig::worker_tmp_dir)
      .def_rw("daemon", &ArbiterConfig::daemon)
      .def_rw("proc_name", &ArbiterConfig::proc_name)
      .def_rw("statsd", &ArbiterConfig::statsd)
      .def_rw("statsd_prefix", &ArbiterConfig::statsd_prefix)
      .def_rw("dogstatsd_tags", &ArbiterConfig::dogstatsd_tags)
      .def_rw("backlog_metric", &ArbiterConfig::backlog_metric)
      .def_rw("upgrade_parent", &ArbiterConfig::upgrade_parent)
      .def_rw("inherited_fds", &ArbiterConfig::inherited_fds)
      .def_rw("socket_activation", &ArbiterConfig::socket_activation)
      .def_rw("reuse_port", &ArbiterConfig::reuse_port)
      .def_rw("max_worker_memory", &ArbiterConfig::max_worker_memory)
      .def_rw("worker_class_name", &ArbiterConfig::worker_class_name)
      .def_rw("version", &ArbiterConfig::version);
}

}  // namespace monoceros::bindings
