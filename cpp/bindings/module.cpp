// monoceros._core: the Python surface of the C++ core. Python hands over the settings as typed
// structs (see config_bindings.cpp); the arbiter and the workers run in C++ and call back
// only for hooks and logging.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <unistd.h>

#include <memory>
#include <optional>
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
  PyStatsd(const log::StatsdTarget& target, std::string prefix, std::string tags) {
    std::string error;
    client_ = log::StatsdClient::open(target, std::move(prefix), std::move(tags), error);
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
      nb::object fresh = events_.attr("reload")();  // an ArbiterConfig, or None
      if (fresh.is_none()) return std::nullopt;
      return nb::cast<arbiter::ArbiterConfig>(fresh);
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
  PyArbiter(const arbiter::ArbiterConfig& config, nb::object reopen_logs, nb::object events)
      : host_(std::move(reopen_logs), std::move(events)), arbiter_(config, host_) {}

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
  PythonHost host_;
  arbiter::Arbiter arbiter_;
};

// ---- worker --------------------------------------------------------------------------------

class PyWorker {
 public:
  // `shared` is the master's config, made once per configuration (monoceros.core_settings);
  // the Python objects the worker calls come beside it, and are kept alive here.
  PyWorker(PyWorkerLaunch& launch, nb::object app, const worker::WorkerConfig& shared,
           nb::object errors, nb::object report_exception, nb::object access_log,
           nb::object pre_request, nb::object post_request)
      : app_(std::move(app)),
        pre_request_(std::move(pre_request)),
        post_request_(std::move(post_request)),
        errors_(std::move(errors)),
        report_exception_(std::move(report_exception)),
        access_log_(std::move(access_log)) {
    worker::WorkerConfig config = shared;
    config.environ.errors = errors_.ptr();
    config.response.report_exception = report_exception_.ptr();
    config.access_log = access_log_.is_none() ? nullptr : access_log_.ptr();
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
      .def(nb::init<const log::StatsdTarget&, std::string, std::string>(), nb::arg("target"),
           nb::arg("prefix"), nb::arg("tags"))
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
      .def(nb::init<const arbiter::ArbiterConfig&, nb::object, nb::object>(), nb::arg("config"),
           nb::arg("reopen_logs").none(), nb::arg("events").none())
      .def("run", &PyArbiter::run,
           "Run the master loop. Returns the exit status in the master, or a WorkerLaunch in a "
           "newly forked worker.")
      .def_prop_rw("num_workers", &PyArbiter::num_workers, &PyArbiter::set_num_workers,
                   "The target number of workers (TTIN/TTOU change it too).")
      .def_prop_ro("pid", &PyArbiter::pid)
      .def_prop_ro("listeners", &PyArbiter::listeners, "(fd, url) of each bound socket.");

  nb::class_<PyWorker>(module, "Worker", "A worker process's event loop serving one WSGI app.")
      .def(nb::init<PyWorkerLaunch&, nb::object, const worker::WorkerConfig&, nb::object,
                    nb::object, nb::object, nb::object, nb::object>(),
           nb::arg("launch"), nb::arg("app"), nb::arg("config"), nb::arg("errors").none(),
           nb::arg("report_exception").none(), nb::arg("access_log").none(),
           nb::arg("pre_request").none(), nb::arg("post_request").none())
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
