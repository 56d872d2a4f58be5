// Syntax of an authority (Host field value, CONNECT target, absolute-form authority).
#pragma once

#include <string_view>

namespace monoceros::http::grammar {

enum class PortRule : unsigned char { optional, required };

// RFC 9110 §7.2 / RFC 3986 §3.2.2-3.2.3: Host = uri-host [ ":" port ].
// uri-host is an IP-literal ("[" IPv6address "]"; IPvFuture and zone ids are refused), or a
// reg-name / IPv4address: unreserved, pct-encoded and sub-delims except "," (a comma means a
// list: checklist G2), no empty label (".." or a leading "."), obs-text allowed byte-exact
// (checklist C10). port = 1*5DIGIT with a value of at most 65535 (an empty port is refused:
// reject, don't repair). No userinfo, path, query or whitespace.
bool is_valid_host(std::string_view text, PortRule port_rule) noexcept;

// RFC 3986 §3.2: authority = [ userinfo "@" ] host [ ":" port ], as found in an absolute-form
// request-target (RFC 9112 §3.2.2), where userinfo is still legal syntax.
bool is_valid_authority(std::string_view text) noexcept;

// RFC 3986 §3.2.2: IPv6address (the text between "[" and "]").
bool is_valid_ipv6(std::string_view text) noexcept;

}  // namespace monoceros::http::grammar
