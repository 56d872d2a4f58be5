// Tests for the PROXY protocol header parser: v1 and v2, detection, partial input, errors.
#include "http/proxy_protocol.hpp"

#include <string>

#include "check.hpp"

using namespace monoceros::http;

namespace {

const std::string kSignature("\r\n\r\n\0\r\nQUIT\n", 12);

std::string v2_ipv4(unsigned char command = 0x21) {
  std::string header = kSignature;
  header += static_cast<char>(command);          // version 2, PROXY (or LOCAL with 0x20)
  header += '\x11';                              // AF_INET, STREAM
  header += std::string("\x00\x0c", 2);          // 12 bytes of addresses
  header += std::string("\xc0\xa8\x00\x01", 4);  // 192.168.0.1
  header += std::string("\x0a\x00\x00\x02", 4);  // 10.0.0.2
  header += std::string("\xdc\x04", 2);          // 56324
  header += std::string("\x01\xbb", 2);          // 443
  return header;
}

}  // namespace

TEST(v1_tcp4_line) {
  ProxyInfo info;
  const std::string bytes = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\nGET / HTTP/1.1\r\n";
  const ProxyResult result = parse_proxy_header(bytes, ProxyProtocolMode::any, info);
  CHECK(result.status == ProxyStatus::complete);
  CHECK_EQ(result.consumed, bytes.find("GET"));
  CHECK_EQ(info.protocol, std::string("TCP4"));
  CHECK(info.has_addresses);
  CHECK_EQ(info.client_addr, std::string("192.168.0.1"));
  CHECK_EQ(info.client_port, 56324);
  CHECK_EQ(info.proxy_addr, std::string("192.168.0.11"));
  CHECK_EQ(info.proxy_port, 443);
}

TEST(v1_tcp6_and_unknown) {
  ProxyInfo info;
  CHECK(parse_proxy_header("PROXY TCP6 ::1 2001:db8::1 1 65535\r\n", ProxyProtocolMode::v1, info)
            .status == ProxyStatus::complete);
  CHECK_EQ(info.client_addr, std::string("::1"));
  const ProxyResult unknown =
      parse_proxy_header("PROXY UNKNOWN ignored stuff\r\nGET", ProxyProtocolMode::any, info);
  CHECK(unknown.status == ProxyStatus::complete);
  CHECK_EQ(info.protocol, std::string("UNKNOWN"));
  CHECK(!info.has_addresses);
}

TEST(v1_malformed_lines) {
  for (const char* bad : {
           "PROXY TCP4 192.168.0.1 192.168.0.11 56324\r\n",         // 5 fields
           "PROXY TCP4 192.168.0.1 192.168.0.11 65iii 100000\r\n",  // corpus invalid/pp_02
           "PROXY TCP4 not-an-ip 192.168.0.11 56324 443\r\n",       // corpus invalid/pp_03
           "PROXY TCP4 192.168.0.1 192.168.0.11 56324 65536\r\n",   // port out of range
           "PROXY TCP4 192.168.0.1 192.168.0.11 +80 443\r\n",
           "PROXY TCP4 ::1 ::1 80 443\r\n",  // v6 addresses under TCP4
           "PROXY UDP4 192.168.0.1 192.168.0.11 56324 443\r\n",
           "PROXY TCP4 192.168.0.1  192.168.0.11 56324 443\r\n",     // double space
           "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\n",        // bare LF
           "PROXY TCP4 192.168.0.1\n 192.168.0.11 56324 443\r\n",    // LF inside the line
           "PROXY UNKNOWN a\tb\r\n",                                 // control octet
           "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\x80\r\n",  // not ASCII
       }) {
    ProxyInfo info;
    const ProxyResult result = parse_proxy_header(bad, ProxyProtocolMode::any, info);
    CHECK(result.status == ProxyStatus::error);
    CHECK(result.error == ParseError::invalid_proxy_line);
    CHECK(result.detected);
  }
  // An embedded NUL after a valid address (inet_pton would stop at it; the stream fuzzer
  // found the address reaching REMOTE_ADDR with the junk). As a whole or in two reads, the
  // verdict is the same.
  static constexpr char kNul[] = "PROXY TCP4 10.0.0.1\0\0\n\0 10.0.0.2 183 240\r\nGET";
  const std::string nul(kNul, sizeof kNul - 1);
  for (const std::size_t cut : {nul.size(), std::size_t{25}}) {
    ProxyInfo info;
    const ProxyResult result =
        parse_proxy_header(std::string_view(nul).substr(0, cut), ProxyProtocolMode::any, info);
    CHECK(result.status == ProxyStatus::error);
    CHECK(info.client_addr.empty());
  }
  // No CRLF within the spec's 107-byte maximum.
  ProxyInfo info;
  CHECK(parse_proxy_header("PROXY TCP4 " + std::string(200, '1'), ProxyProtocolMode::any, info)
            .status == ProxyStatus::error);
}

TEST(partial_headers_wait) {
  ProxyInfo info;
  for (const std::string& prefix :
       {std::string("P"), std::string("PROXY"), std::string("PROXY TCP4 1.2.3.4"),
        kSignature.substr(0, 5), v2_ipv4().substr(0, 20)}) {
    CHECK(parse_proxy_header(prefix, ProxyProtocolMode::any, info).status == ProxyStatus::partial);
  }
}

TEST(nothing_received_yet_waits) {
  // A default-constructed view has a null data(): the parser must not hand it to memcmp
  // (UBSan stops this test if it does; the fuzzer found it).
  ProxyInfo info;
  CHECK(parse_proxy_header(std::string_view(), ProxyProtocolMode::any, info).status ==
        ProxyStatus::partial);
}

TEST(http_is_not_a_proxy_header) {
  ProxyInfo info;
  for (const char* bytes : {"GET / HTTP/1.1\r\n", "POST /", "\r\n\r\nGET"}) {
    const ProxyResult result = parse_proxy_header(bytes, ProxyProtocolMode::any, info);
    CHECK(result.status == ProxyStatus::absent);
    CHECK(!result.detected);
  }
  // A version that is not enabled is just bytes.
  CHECK(parse_proxy_header(v2_ipv4(), ProxyProtocolMode::v1, info).status == ProxyStatus::absent);
  CHECK(parse_proxy_header("PROXY TCP4 1.2.3.4 1.2.3.4 1 1\r\n", ProxyProtocolMode::v2, info)
            .status == ProxyStatus::absent);
  CHECK(parse_proxy_header("PROXY TCP4 1.2.3.4 1.2.3.4 1 1\r\n", ProxyProtocolMode::off, info)
            .status == ProxyStatus::absent);
}

TEST(v2_ipv4_proxy_and_local) {
  ProxyInfo info;
  const std::string header = v2_ipv4();
  const ProxyResult result = parse_proxy_header(header + "GET", ProxyProtocolMode::v2, info);
  CHECK(result.status == ProxyStatus::complete);
  CHECK_EQ(result.consumed, header.size());
  CHECK_EQ(info.protocol, std::string("TCP4"));
  CHECK_EQ(info.client_addr, std::string("192.168.0.1"));
  CHECK_EQ(info.client_port, 56324);
  CHECK_EQ(info.proxy_addr, std::string("10.0.0.2"));
  CHECK_EQ(info.proxy_port, 443);
  const ProxyResult local = parse_proxy_header(v2_ipv4(0x20), ProxyProtocolMode::any, info);
  CHECK(local.status == ProxyStatus::complete);
  CHECK_EQ(info.protocol, std::string("LOCAL"));
  CHECK(!info.has_addresses);
}

TEST(v2_rejects_bad_version_command_and_family) {
  ProxyInfo info;
  std::string header = v2_ipv4();
  header[12] = '\x11';  // version 1
  CHECK(parse_proxy_header(header, ProxyProtocolMode::any, info).status == ProxyStatus::error);
  header = v2_ipv4();
  header[12] = '\x22';  // command 2
  CHECK(parse_proxy_header(header, ProxyProtocolMode::any, info).status == ProxyStatus::error);
  header = v2_ipv4();
  header[13] = '\x12';  // DGRAM
  CHECK(parse_proxy_header(header, ProxyProtocolMode::any, info).status == ProxyStatus::error);
  header = v2_ipv4();
  header[13] = '\x21';  // AF_INET6 with only 12 bytes of addresses
  CHECK(parse_proxy_header(header, ProxyProtocolMode::any, info).status == ProxyStatus::error);
}
