// error_response: the complete response the server itself sends for a rejected request.
#include "http/error_response.hpp"

#include "http/response_head.hpp"

namespace monoceros::http {
namespace {

// The message may echo request bytes; escape it so the page cannot carry markup.
void append_html_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
}

}  // namespace

std::string error_response(int status, std::string_view reason, std::string_view message,
                           std::string_view date, std::string_view server) {
  std::string body = "<html>\n  <head>\n    <title>";
  append_html_escaped(body, reason);
  body += "</title>\n  </head>\n  <body>\n    <h1><p>";
  append_html_escaped(body, reason);
  body += "</p></h1>\n    ";
  append_html_escaped(body, message);
  body += "\n  </body>\n</html>\n";

  std::string response = "HTTP/1.1 ";
  append_decimal(response, static_cast<std::uint64_t>(status));
  response.push_back(' ');
  response += reason;
  response += "\r\nServer: ";
  response += server;
  response += "\r\nDate: ";
  response += date;
  response += "\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: ";
  append_decimal(response, body.size());
  response += "\r\n\r\n";
  response += body;
  return response;
}

}  // namespace monoceros::http
