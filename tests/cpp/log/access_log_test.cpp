// Tests for the access-log formatter: gunicorn's atoms, escaping and unknown atoms.
#include "log/access_log.hpp"

#include <string>

#include "check.hpp"

using namespace monoceros::log;

namespace {

bool lookup(const void*, std::string_view name, std::string& out) {
  if (name == "x-forwarded-for") {
    out = "10.0.0.1";
    return true;
  }
  if (name == "content-type") {
    out = "text/plain";
    return true;
  }
  return false;
}

AccessRecord sample() {
  AccessRecord record;
  record.remote_addr = "127.0.0.1";
  record.method = "GET";
  record.raw_uri = "/path?x=1";
  record.protocol = "HTTP/1.1";
  record.path_info = "/path";
  record.query = "x=1";
  record.status = 200;
  record.bytes_sent = 13;
  record.user_agent = "curl/8";
  record.duration_us = 1'234'567;
  record.pid = 42;
  record.request_header = &lookup;
  record.response_header = &lookup;
  record.environ_value = &lookup;
  return record;
}

std::string format(std::string_view format_text, const AccessRecord& record) {
  std::string out;
  AccessLog(format_text).format(record, out);
  return out;
}

}  // namespace

TEST(default_format_without_time) {
  CHECK_EQ(format(R"(%(h)s %(l)s %(u)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s")", sample()),
           std::string(R"(127.0.0.1 - - "GET /path?x=1 HTTP/1.1" 200 13 "-" "curl/8")"));
}

TEST(time_atom_has_brackets) {
  const std::string out = format("%(t)s", sample());
  CHECK(out.size() > 20);
  CHECK(out.front() == '[');
  CHECK(out.back() == ']');
}

TEST(request_atoms) {
  CHECK_EQ(format("%(m)s %(U)s %(q)s %(H)s %(s)s %(B)s %(p)s", sample()),
           std::string("GET /path x=1 HTTP/1.1 200 13 <42>"));
}

TEST(duration_atoms) {
  CHECK_EQ(format("%(T)s %(M)s %(D)s %(L)s", sample()), std::string("1 1234 1234567 1.234567"));
}

TEST(braced_atoms_are_case_insensitive_and_default_to_dash) {
  CHECK_EQ(format("%({X-Forwarded-For}i)s %({content-type}o)s %({missing}e)s", sample()),
           std::string("10.0.0.1 text/plain -"));
}

TEST(unknown_atoms_and_percent_escapes) {
  CHECK_EQ(format("%(zz)s 100%% %(h)d", sample()), std::string("- 100% 127.0.0.1"));
}

TEST(quotes_are_escaped) {
  AccessRecord record = sample();
  record.user_agent = R"(evil"agent)";
  CHECK_EQ(format("%(a)s", record), std::string(R"(evil\"agent)"));
}

TEST(basic_auth_user) {
  AccessRecord record = sample();
  record.authorization = "Basic dXNlcjpwYXNz";  // user:pass
  CHECK_EQ(format("%(u)s", record), std::string("user"));
  record.authorization = "Bearer token";
  CHECK_EQ(format("%(u)s", record), std::string("-"));
}
