// Unit tests for StatsdClient: datagram format (gunicorn's), and delivery over UDP loopback.
#include "log/statsd.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "check.hpp"
#include "util/unique_fd.hpp"

using namespace monoceros::log;
using monoceros::util::unique_fd;

namespace {

// A UDP socket on 127.0.0.1 with an ephemeral port, standing in for a statsd server.
struct UdpServer {
  unique_fd fd{::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
  int port = 0;
  UdpServer() {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t length = sizeof address;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&address), &length);
    port = ntohs(address.sin_port);
    timeval timeout{2, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
  std::string receive() {
    char buffer[512];
    const ssize_t got = ::recv(fd.get(), buffer, sizeof buffer, 0);
    return got > 0 ? std::string(buffer, static_cast<std::size_t>(got)) : std::string();
  }
};

}  // namespace

TEST(statsd_milliseconds_look_like_gunicorns) {
  CHECK_EQ(format_milliseconds(12.5), "12.5");
  CHECK_EQ(format_milliseconds(3.0), "3.0");
  CHECK_EQ(format_milliseconds(0.125), "0.125");
  CHECK_EQ(format_milliseconds(1500.0004), "1500.0");
}

TEST(statsd_datagrams_reach_the_server_in_gunicorns_format) {
  UdpServer server;
  std::string error;
  auto client = StatsdClient::open({"127.0.0.1", server.port, ""}, "shop.", "", error);
  CHECK(client.has_value());
  CHECK_EQ(error, "");
  client->increment("gunicorn.requests", 1);
  CHECK_EQ(server.receive(), "shop.gunicorn.requests:1|c|@1.0");
  client->timer("gunicorn.request.duration", 2.25);
  CHECK_EQ(server.receive(), "shop.gunicorn.request.duration:2.25|ms");
  client->gauge("gunicorn.workers", 4);
  CHECK_EQ(server.receive(), "shop.gunicorn.workers:4|g");
  client->histogram("gunicorn.backlog", 7);
  CHECK_EQ(server.receive(), "shop.gunicorn.backlog:7|h");
}

TEST(statsd_dogstatsd_tags_end_every_datagram) {
  UdpServer server;
  std::string error;
  auto client = StatsdClient::open({"localhost", server.port, ""}, "", "env:prod,app:x", error);
  CHECK(client.has_value());
  CHECK_EQ(client->format("a", "1", "c"), "a:1|c|@1.0|#env:prod,app:x");
  client->gauge("gunicorn.workers", 2);
  CHECK_EQ(server.receive(), "gunicorn.workers:2|g|#env:prod,app:x");
}

TEST(statsd_bad_host_is_one_line) {
  std::string error;
  auto client = StatsdClient::open({"no-such-host.invalid", 8125, ""}, "", "", error);
  CHECK(!client.has_value());
  CHECK(error.find("no-such-host.invalid") != std::string::npos);
  CHECK(error.find('\n') == std::string::npos);
}

TEST(statsd_absent_unix_server_only_drops_metrics) {
  std::string error;
  auto client = StatsdClient::open({"", 0, "/nonexistent/statsd.sock"}, "", "", error);
  CHECK(client.has_value());
  client->increment("gunicorn.requests", 1);  // must not crash or block
}
