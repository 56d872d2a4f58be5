// monoceros._core: the Python surface of the C++ core. Python hands over validated settings
// as plain dicts; the arbiter and the workers run in C++ and call back only for logging.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "arbiter/arbiter.hpp"
#include "bindings/config_bindings.hpp"
#include "log/error_log.hpp"
#include "log/statsd.hpp"
#include "worker/worker.hpp"
#include "wsgi/python_types.hpp"

namespace nb = nanobind;
using namespace monoceros;

namespace {

// ---- settings dicts -> C++ structs --------------------------------------------------------

template <typename T>
T get(const nb::dict& settings, const char* key, T fallback) {
  if (!settings.contains(key)) return fallback;
  nb::object value = settings[key];
  if (value.is_none()) return fallback;
  return nb::cast<T>(value);
}

std::vector<std::string> get_strings(const nb::dict& settings, const char* key) {
  std::vector<std::string> out;
  if (!settings.contains(key) || settings[key].is_none()) return out;
  for (nb::handle item : settings[key])
    out.push_back(nb::cast<std::string>(nb::str(item)));
  return out;
}

net::ListenSpec to_listen_spec(nb::handle address) {
  // (kind, host, port, path, fd) from monoceros.config.Address.as_tuple()
  nb::tuple parts = nb::cast<nb::tuple>(address);
  const std::string kind = nb::cast<std::string>(parts[0]);
  net::ListenSpec spec;
  if (kind == "tcp") {
    spec.kind = net::ListenSpec::Kind::tcp;
    spec.host = nb::cast<std::string>(parts[1]);
    spec.port = nb::cast<int>(parts[2]);
  } else if (kind == "unix") {
    spec.kind = net::ListenSpec::Kind::unix_path;
    spec.path = nb::cast<std::string>(parts[3]);
  } else if (kind == "fd") {
    spec.kind = net::ListenSpec::Kind::fd;
    spec.fd = nb::cast<int>(parts[4]);
  } else {
    throw std::invalid_argument("unknown bind kind: " + kind);
  }
  return spec;
}

// settings["statsd"]: None, {"host": str, "port": int} or {"unix_path": str}.
std::optional<log::StatsdTarget> to_statsd_target(const nb::dict& settings) {
  if (!settings.contains("statsd") || settings["statsd"].is_none()) return std::nullopt;
  nb::dict spec = nb::cast<nb::dict>(settings["statsd"]);
  log::StatsdTarget target;
  target.host = get<std::string>(spec, "host", "");
  target.port = get<int>(spec, "port", 8125);
  target.unix_path = get<std::string>(spec, "unix_path", "");
  return target;
}

arbiter::ArbiterConfig to_arbiter_config(const nb::dict& settings) {
  arbiter::ArbiterConfig config;
  // Validated in Python as ids below (uid_t)-1; absent means keep the owner.
  const auto owner_uid = static_cast<uid_t>(get<long long>(settings, "uid", -1));
  const auto owner_gid = static_cast<gid_t>(get<long long>(settings, "gid", -1));
  for (nb::handle address : settings["bind"]) {
    config.binds.push_back(to_listen_spec(address));
    config.binds.back().owner_uid = owner_uid;
    config.binds.back().owner_gid = owner_gid;
  }
  config.backlog = get<int>(settings, "backlog", 2048);
  config.workers = get<int>(settings, "workers", 1);
  config.timeout = get<double>(settings, "timeout", 30);
  config.graceful_timeout = get<double>(settings, "graceful_timeout", 30);
  config.umask = get<int>(settings, "umask", 0);
  config.worker_tmp_dir = get<std::string>(settings, "worker_tmp_dir", "");
  config.daemon = get<bool>(settings, "daemon", false);
  config.proc_name = get<std::string>(settings, "proc_name", "monoceros");
  config.statsd = to_statsd_target(settings);
  config.statsd_prefix = get<std::string>(settings, "statsd_prefix", "");
  config.dogstatsd_tags = get<std::string>(settings, "dogstatsd_tags", "");
  config.backlog_metric = get<bool>(settings, "enable_backlog_metric", false);
  config.upgrade_parent = get<int>(settings, "upgrade_parent", 0);
  if (settings.contains("inherited_fds")) {
    for (nb::handle fd : settings["inherited_fds"])
      config.inherited_fds.push_back(nb::cast<int>(fd));
  }
  config.socket_activation = get<bool>(settings, "socket_activation", false);
  config.reuse_port = get<bool>(settings, "reuse_port", false);
  const long long memory_mib = get<long long>(settings, "max_worker_memory", 0);
  config.max_worker_memory =
      memory_mib > 0 ? static_cast<std::uint64_t>(memory_mib) * 1024 * 1024 : 0;
  config.worker_class_name = get<std::string>(settings, "worker_class_name", "sync");
  config.version = get<std::string>(settings, "version", "");
  return config;
}

http::UnderscoreHeaders to_header_map(const std::string& value) {
  if (value == "refuse") return http::UnderscoreHeaders::refuse;
  if (value == "dangerous") return http::UnderscoreHeaders::dangerous;
  return http::UnderscoreHeaders::drop;
}

http::ProxyProtocolMode to_proxy_mode(const std::string& value) {
  if (value == "v1") return http::ProxyProtocolMode::v1;
  if (value == "v2") return http::ProxyProtocolMode::v2;
  if (value == "auto") return http::ProxyProtocolMode::any;
  return http::ProxyProtocolMode::off;
}

http::ParserOptions to_parser_options(const nb::dict& settings) {
  http::ParserOptions options;
  const long line = get<long>(settings, "limit_request_line", 4094);
  options.limit_request_line = line < 0 ? 8190 : static_cast<std::size_t>(line);
  options.limit_request_fields = get<std::size_t>(settings, "limit_request_fields", 100);
  options.limit_request_field_size = get<std::size_t>(settings, "limit_request_field_size", 8190);
  options.permit_obsolete_folding = get<bool>(settings, "permit_obsolete_folding", false);
  options.strip_header_spaces = get<bool>(settings, "strip_header_spaces", false);
  options.permit_unconventional_http_method =
      get<bool>(settings, "permit_unconventional_http_method", false);
  options.permit_unconventional_http_version =
      get<bool>(settings, "permit_unconventional_http_version", false);
  options.casefold_http_method = get<bool>(settings, "casefold_http_method", false);
  options.require_host = !get<bool>(settings, "permit_missing_host", false);
  options.header_map = to_header_map(get<std::string>(settings, "header_map", "drop"));
  options.forwarder_headers = get_strings(settings, "forwarder_headers");
  for (const std::string& name : options.forwarder_headers) {
    if (name == "*") options.forwarder_headers_all = true;
  }
  return options;
}

// ---- logging ---------------------------------------------------------------------------------

PyObject* error_log_callable = nullptr;  // callable(level: int, message: str)

void python_error_sink(log::Level level, std::string_view message) noexcept {
  PyGILState_STATE state = PyGILState_Ensure();
  PyObject* callable = error_log_callable;
  PyObject* result = nullptr;
  if (callable) {
    // A pending exception (e.g. SystemExit on its way out) must survive a log call.
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyObject* text =
        PyUnicode_DecodeUTF8(message.data(), static_cast<Py_ssize_t>(message.size()), "replace");
    result = text ? PyObject_CallFunction(callable, "iO", static_cast<int>(level), text) : nullptr;
    Py_XDECREF(text);
    if (!result) PyErr_Clear();
    PyErr_Restore(type, value, traceback);
  }
  PyGILState_Release(state);
  if (!result) log::write_to_stderr(level, message);
  Py_XDECREF(result);
}

void set_error_logger(nb::object callable, int threshold) {
  Py_XDECREF(error_log_callable);
  error_log_callable = callable.is_none() ? nullptr : callable.release().ptr();
  log::set_threshold(static_cast<log::Level>(threshold));
  log::set_sink(error_log_callable ? &python_error_sink : nullptr);
}

// ---- statsd --------------------------------------------------------------------------------

// The same client for the Python side: log-level counters and metrics that hooks log.
class PyStatsd {
 public:
  explicit PyStatsd(nb::dict settings) {
    std::optional<log::StatsdTarget> target = to_statsd_target(settings);
    if (!target) throw nb::value_error("no statsd target in the settings");
    std::string error;
    client_ = log::StatsdClient::open(*target, get<std::string>(settings, "statsd_prefix", ""),
                                      get<std::string>(settings, "dogstatsd_tags", ""), error);
    if (!client_) throw nb::value_error(error.c_str());
  }
  void increment(const std::string& name, std::int64_t value) { client_->increment(name, value); }
  void gauge(const std::string& name, std::int64_t value) { client_->gauge(name, value); }
  void timer(const std::string& name, double ms) { client_->timer(name, ms); }
  void histogram(const std::string& name, std::int64_t value) { client_->histogram(name, value); }

 private:
  std::optional<log::StatsdClient> client_;
};

// ---- arbiter -------------------------------------------------------------------------------

// What a new worker process carries out of Arbiter.run().
class PyWorkerLaunch {
 public:
  explicit PyWorkerLaunch(arbiter::WorkerLaunch launch) : launch_(std::move(launch)) {}
  int age() const { return launch_.age; }
  int ppid() const { return launch_.ppid; }
  // True for the first worker that reports an app load failure: it prints the traceback,
  // the others stay quiet, so the operator sees it once.
  bool claim_load_error_report() {
    return launch_.load_error_reported && (*launch_.load_error_reported)->exchange(1) == 0;
  }
  arbiter::WorkerLaunch& launch() { return launch_; }

 private:
  arbiter::WorkerLaunch launch_;
};

class PythonHost final : public arbiter::ArbiterHost {
 public:
  // `events` receives the server-hook moments as method calls (monoceros.hooks.MasterEvents);
  // None when no hook is set.
  PythonHost(nb::object reopen_logs, nb::object events)
      : reopen_logs_(std::move(reopen_logs)), events_(std::move(events)) {}

  pid_t fork_process() override {
    PyOS_BeforeFork();
    const pid_t pid = ::fork();
    if (pid == 0) {
      PyOS_AfterFork_Child();
    } else {
      PyOS_AfterFork_Parent();
    }
    return pid;
  }
  void before_wait() override { saved_ = PyEval_SaveThread(); }
  void after_wait() override { PyEval_RestoreThread(saved_); }
  void reopen_logs() override {
    if (reopen_logs_.is_none()) return;
    try {
      reopen_logs_();
    } catch (const nb::python_error& error) {
      log::error(std::string("Could not reopen log files: ") + error.what());
    }
  }

  void on_starting() override { notify("on_starting"); }
  void when_ready() override { notify("when_ready"); }
  void pre_fork(int age) override { notify("pre_fork", age); }
  void worker_spawned(pid_t pid, int age) override { notify("worker_spawned", pid, age); }
  void child_exit(pid_t pid, int age) override { notify("child_exit", pid, age); }
  void worker_vanished(pid_t pid, int age) override { notify("worker_vanished", pid, age); }
  void nworkers_changed(int count, int old_count) override {
    notify("nworkers_changed", count, old_count);
  }
  void on_exit() override { notify("on_exit"); }
  void on_reload() override { notify("on_reload"); }
  void promoted() override { notify("promoted"); }
  void exec_new_master(pid_t parent, const std::vector<int>& fds) override {
    nb::list handed;
    for (int fd : fds)
      handed.append(fd);
    notify("exec_new_master", parent, handed);  // returns only if exec failed
  }

  std::optional<arbiter::ArbiterConfig> reload() override {
    if (events_.is_none()) return std::nullopt;
    try {
      nb::object fresh = events_.attr("reload")();
      if (fresh.is_none()) return std::nullopt;
      return to_arbiter_config(nb::cast<nb::dict>(fresh));
    } catch (nb::python_error& error) {
      error.discard_as_unraisable("reload");
    } catch (const std::exception& error) {
      log::error(std::string("Reload failed: ") + error.what());
    }
    return std::nullopt;
  }

 private:
  // The Python side logs a hook's own exceptions; anything escaping that must not unwind
  // through the arbiter loop, so it is reported as unraisable.
  template <typename... Args>
  void notify(const char* event, Args... args) {
    if (events_.is_none()) return;
    try {
      events_.attr(event)(args...);
    } catch (nb::python_error& error) {
      error.discard_as_unraisable(event);
    }
  }

  nb::object reopen_logs_;
  nb::object events_;
  PyThreadState* saved_ = nullptr;
};

class PyArbiter {
 public:
  explicit PyArbiter(nb::dict settings)
      : host_(setting_or_none(settings, "reopen_logs"), setting_or_none(settings, "events")),
        arbiter_(to_arbiter_config(settings), host_) {}

  // The master's exit status, or (in a new worker) a WorkerLaunch.
  nb::object run() {
    std::variant<int, arbiter::WorkerLaunch> outcome = arbiter_.run();
    if (auto* status = std::get_if<int>(&outcome)) return nb::int_(*status);
    return nb::cast(PyWorkerLaunch(std::move(std::get<arbiter::WorkerLaunch>(outcome))));
  }

  int num_workers() const { return arbiter_.num_workers(); }
  void set_num_workers(int count) {
    if (count < 0) throw nb::value_error("num_workers must be >= 0");
    arbiter_.set_num_workers(count);
  }
  int pid() const { return arbiter_.pid(); }
  nb::list listeners() const {
    nb::list out;
    for (const net::Listener& listener : arbiter_.listeners())
      out.append(nb::make_tuple(listener.fd.get(), listener.url));
    return out;
  }

 private:
  static nb::object setting_or_none(const nb::dict& settings, const char* key) {
    return settings.contains(key) ? nb::object(settings[key]) : nb::none();
  }

  PythonHost host_;
  arbiter::Arbiter arbiter_;
};

// ---- worker --------------------------------------------------------------------------------

class PyWorker {
 public:
  PyWorker(PyWorkerLaunch& launch, nb::object app, nb::dict settings, nb::object errors,
           nb::object report_exception, nb::object access_log)
      : app_(std::move(app)),
        errors_(std::move(errors)),
        report_exception_(std::move(report_exception)),
        access_log_(std::move(access_log)) {
    worker::WorkerConfig config;
    config.parser = to_parser_options(settings);
    config.forwarded_allow_ips = get_strings(settings, "forwarded_allow_ips");
    config.proxy_protocol = to_proxy_mode(get<std::string>(settings, "proxy_protocol", "off"));
    config.proxy_allow_ips = get_strings(settings, "proxy_allow_ips");
    config.worker_connections = get<int>(settings, "worker_connections", 1000);
    const long long max_requests = get<long long>(settings, "max_requests", 0);
    config.max_requests = max_requests > 0 ? static_cast<std::uint64_t>(max_requests) : 0;
    config.timeout = get<double>(settings, "timeout", 30);
    config.tmp_upload_dir = get<std::string>(settings, "tmp_upload_dir", "");
    const long long body_limit = get<long long>(settings, "limit_request_body", 0);
    config.limit_request_body = body_limit > 0 ? static_cast<std::uint64_t>(body_limit) : 0;
    config.workers = get<int>(settings, "workers", 1);
    config.environ.multiprocess = config.workers > 1;
    // MiB in the settings; -1: automatic (see WorkerConfig).
    const long long spool_mib = get<long long>(settings, "body_spool_limit", -1);
    config.body_spool_limit = spool_mib < 0 ? -1 : static_cast<std::int64_t>(spool_mib) << 20;
    // event and gthread keep connections alive and answer pipelined requests; gthread runs
    // the app on `threads` Python threads (see serve_requests).
    const std::string worker_class = get<std::string>(settings, "worker_class", "sync");
    config.keep_alive = worker_class == "event" || worker_class == "gthread";
    config.threads = worker_class == "gthread" ? std::max(1, get<int>(settings, "threads", 1)) : 0;
    config.environ.multithread =
        config.threads > 0;  // gunicorn: True in gthread, whatever `threads`
    config.keepalive = get<double>(settings, "keepalive", 2);
    config.environ.errors = errors_.ptr();
    config.environ.server_software = get<std::string>(settings, "server_software", "monoceros");
    config.environ.script_name = get<std::string>(settings, "script_name", "");
    if (settings.contains("secure_scheme_headers")) {
      for (auto [name, value] : nb::cast<nb::dict>(settings["secure_scheme_headers"])) {
        config.environ.secure_scheme_headers.emplace_back(nb::cast<std::string>(nb::str(name)),
                                                          nb::cast<std::string>(nb::str(value)));
      }
    }
    config.response.server = get<std::string>(settings, "server_header", "monoceros");
    config.response.sendfile = get<bool>(settings, "sendfile", true);
    config.response.report_exception = report_exception_.ptr();
    config.access_log_format = get<std::string>(settings, "access_log_format", "");
    config.access_log = access_log_.is_none() ? nullptr : access_log_.ptr();
    config.statsd = to_statsd_target(settings);
    config.statsd_prefix = get<std::string>(settings, "statsd_prefix", "");
    config.dogstatsd_tags = get<std::string>(settings, "dogstatsd_tags", "");
    pre_request_ = hook(settings, "pre_request");
    post_request_ = hook(settings, "post_request");
    config.pre_request = pre_request_.is_none() ? nullptr : pre_request_.ptr();
    config.post_request = post_request_.is_none() ? nullptr : post_request_.ptr();
    arbiter::WorkerLaunch& inherited = launch.launch();
    worker_ = std::make_unique<worker::Worker>(config, std::move(inherited.listeners),
                                               std::move(inherited.heartbeat), inherited.ppid,
                                               app_.ptr(), std::move(inherited.retire_request));
  }

  void run() {
    if (worker_->run() != 0) throw nb::python_error();
  }
  void stop() { worker_->request_stop(); }
  void serve_requests() { worker_->serve_requests(); }
  int threads() const { return worker_->threads(); }
  int wakeup_fd() const { return worker_->wakeup_fd(); }
  std::uint64_t requests() const { return worker_->requests(); }
  bool alive() const { return !worker_->stopping(); }

 private:
  static nb::object hook(const nb::dict& settings, const char* key) {
    return settings.contains(key) ? nb::object(settings[key]) : nb::none();
  }

  nb::object app_;
  nb::object pre_request_;  // server hooks kept alive for the worker's life (or None)
  nb::object post_request_;
  nb::object errors_;
  nb::object report_exception_;
  nb::object access_log_;
  std::unique_ptr<worker::Worker> worker_;
};

}  // namespace

NB_MODULE(_core, module) {
  module.doc() = "The C++ core of monoceros: arbiter, workers, HTTP parser and WSGI bridge.";
  // A worker process exits with its Arbiter and Worker objects still referenced (they live
  // as long as the process does); nanobind's leak report at exit would only be noise.
  nb::set_leak_warnings(false);
  if (!wsgi::init_python_types(module.ptr())) throw nb::python_error();
  bindings::bind_config(module);

  module.def("set_error_logger", &set_error_logger, nb::arg("log").none(), nb::arg("threshold"),
             "Route the core's error-log messages to log(level, message); None restores stderr.");

  nb::class_<PyStatsd>(module, "Statsd", "A StatsD client: datagrams sent without blocking.")
      .def(nb::init<nb::dict>(), nb::arg("settings"))
      .def("increment", &PyStatsd::increment, nb::arg("name"), nb::arg("value"))
      .def("gauge", &PyStatsd::gauge, nb::arg("name"), nb::arg("value"))
      .def("timer", &PyStatsd::timer, nb::arg("name"), nb::arg("milliseconds"))
      .def("histogram", &PyStatsd::histogram, nb::arg("name"), nb::arg("value"));

  nb::class_<PyWorkerLaunch>(module, "WorkerLaunch",
                             "What a new worker process inherits from the arbiter.")
      .def_prop_ro("age", &PyWorkerLaunch::age)
      .def_prop_ro("ppid", &PyWorkerLaunch::ppid)
      .def("claim_load_error_report", &PyWorkerLaunch::claim_load_error_report);

  nb::class_<PyArbiter>(module, "Arbiter", "The master process: binds, forks and supervises.")
      .def(nb::init<nb::dict>(), nb::arg("settings"))
      .def("run", &PyArbiter::run,
           "Run the master loop. Returns the exit status in the master, or a WorkerLaunch in a "
           "newly forked worker.")
      .def_prop_rw("num_workers", &PyArbiter::num_workers, &PyArbiter::set_num_workers,
                   "The target number of workers (TTIN/TTOU change it too).")
      .def_prop_ro("pid", &PyArbiter::pid)
      .def_prop_ro("listeners", &PyArbiter::listeners, "(fd, url) of each bound socket.");

  nb::class_<PyWorker>(module, "Worker", "A worker process's event loop serving one WSGI app.")
      .def(nb::init<PyWorkerLaunch&, nb::object, nb::dict, nb::object, nb::object, nb::object>(),
           nb::arg("launch"), nb::arg("app"), nb::arg("settings"), nb::arg("errors").none(),
           nb::arg("report_exception").none(), nb::arg("access_log").none())
      .def("run", &PyWorker::run, "Serve until stopped; signal handlers may raise SystemExit.")
      .def("stop", &PyWorker::stop, "Stop gracefully: finish accepted requests, then return.")
      .def("serve_requests", &PyWorker::serve_requests,
           "gthread: run requests on the calling thread until run() returns.")
      .def_prop_ro("threads", &PyWorker::threads,
                   "How many threads must call serve_requests (0: none, the app runs in run()).")
      .def_prop_ro("wakeup_fd", &PyWorker::wakeup_fd)
      .def_prop_ro("requests", &PyWorker::requests)
      .def_prop_ro("alive", &PyWorker::alive);
}
