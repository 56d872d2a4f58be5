// error_response: the complete response the server itself sends for a rejected request.
#include "http/error_response.hpp"

#include "http/response_framing.hpp"

namespace monoceros::http {

std::string error_response(int status, std::string_view reason, std::string_view message,
                           std::string_view date, std::string_view server) {
  // A rejected request has no trustworthy version, method or keep-alive wish: the page is framed
  // as for an HTTP/1.1 GET whose connection closes (ResponseFraming::write_error).
  ResponseFraming framing({.version_minor = 1, .head = false, .keep_alive = false});
  std::string response;
  response.reserve(320 + reason.size() * 3 + message.size() + server.size());
  framing.write_error(response, status, reason, message, server, date);
  return response;
}

}  // namespace monoceros::http
