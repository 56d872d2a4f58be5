// Tests for the trusted-proxy matcher: exact IPs, CIDR networks, "*", unix peers.
#include "net/address_matcher.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>

#include "check.hpp"

using namespace monoceros::net;

namespace {

SocketAddress ipv4(const char* text) {
  SocketAddress address;
  auto* in4 = reinterpret_cast<sockaddr_in*>(&address.storage);
  in4->sin_family = AF_INET;
  ::inet_pton(AF_INET, text, &in4->sin_addr);
  address.length = sizeof(sockaddr_in);
  return address;
}

SocketAddress ipv6(const char* text) {
  SocketAddress address;
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
  in6->sin6_family = AF_INET6;
  ::inet_pton(AF_INET6, text, &in6->sin6_addr);
  address.length = sizeof(sockaddr_in6);
  return address;
}

}  // namespace

TEST(default_list_trusts_loopback_only) {
  AddressMatcher matcher;
  CHECK(!matcher.assign({"127.0.0.1", "::1"}));
  CHECK(matcher.matches(ipv4("127.0.0.1")));
  CHECK(matcher.matches(ipv6("::1")));
  CHECK(!matcher.matches(ipv4("127.0.0.2")));
  CHECK(!matcher.matches(ipv4("10.1.2.3")));
  CHECK(matcher.matches(ipv6("::ffff:127.0.0.1")));  // IPv4-mapped
}

TEST(cidr_networks) {
  AddressMatcher matcher;
  CHECK(!matcher.assign({"10.0.0.0/8", "192.168.1.0/24", "fd00::/8"}));
  CHECK(matcher.matches(ipv4("10.255.0.1")));
  CHECK(matcher.matches(ipv4("192.168.1.200")));
  CHECK(!matcher.matches(ipv4("192.168.2.1")));
  CHECK(matcher.matches(ipv6("fd12::1")));
  CHECK(!matcher.matches(ipv6("fe80::1")));
}

TEST(star_trusts_everyone) {
  AddressMatcher matcher;
  CHECK(!matcher.assign({"*"}));
  CHECK(matcher.matches(ipv4("8.8.8.8")));
}

TEST(unix_peers_are_trusted) {
  AddressMatcher matcher;
  CHECK(!matcher.assign({}));
  SocketAddress unix_peer;
  unix_peer.storage.ss_family = AF_UNIX;
  unix_peer.length = sizeof(sa_family_t);
  CHECK(matcher.matches(unix_peer));
}

TEST(invalid_entries_are_reported) {
  AddressMatcher matcher;
  CHECK(matcher.assign({"127.0.0.1", "not-an-ip"}).value_or("") == "not-an-ip");
  CHECK(matcher.assign({"10.0.0.1/8"}).has_value());  // host bits set: not a network
  CHECK(matcher.assign({"10.0.0.0/33"}).has_value());
}
