// error_response: the complete response the server itself sends for a rejected request.
#pragma once

#include <string>
#include <string_view>

namespace monoceros::http {

// "HTTP/1.1 <status> <reason>" with Server, Date, Connection: close, Content-Type text/html,
// Content-Length and a small HTML page naming the problem. The connection closes after it.
std::string error_response(int status, std::string_view reason, std::string_view message,
                           std::string_view date, std::string_view server);

}  // namespace monoceros::http
