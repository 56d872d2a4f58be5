// ResponseFraming: every HTTP/1.1 framing decision of one response and the bytes it produces.
#include "http/response_framing.hpp"

#include "http/char_class.hpp"

namespace monoceros::http {
namespace {

// The status line and the fields the server always writes itself, for the app's responses and
// its own error pages alike. RFC 9112 §4: status-line = HTTP-version SP status-code SP reason.
// Server (RFC 9110 §10.2.4) and Date (§6.6.1: an origin server with a clock sends it).
void append_head_start(std::string& out, int version_minor, std::string_view status,
                       std::string_view server, std::string_view date,
                       std::string_view connection) {
  // The client's version echoed, as gunicorn does (RFC 9110 §2.5 would allow 1.1): an HTTP/1.0
  // client is told plainly that nothing only 1.1 defines follows.
  out += version_minor >= 1 ? "HTTP/1.1 " : "HTTP/1.0 ";
  out += status;
  out += "\r\nServer: ";
  out += server;
  out += "\r\nDate: ";
  out += date;
  out += "\r\nConnection: ";
  out += connection;
  out += "\r\n";
}

// RFC 9112 §5: field-line = field-name ":" OWS field-value OWS.
void append_field(std::string& out, std::string_view name, std::string_view value) {
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

// The error page's message may echo request bytes: escaped so it cannot carry markup. The size
// is known first so the page is written once, straight after its Content-Length.
std::string_view html_escape(char c) noexcept {
  switch (c) {
    case '<':
      return "&lt;";
    case '>':
      return "&gt;";
    case '&':
      return "&amp;";
    case '"':
      return "&quot;";
    default:
      return {};
  }
}

std::size_t html_escaped_size(std::string_view text) noexcept {
  std::size_t size = 0;
  for (char c : text) {
    const std::string_view escaped = html_escape(c);
    size += escaped.empty() ? 1 : escaped.size();
  }
  return size;
}

void append_html_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    const std::string_view escaped = html_escape(c);
    if (escaped.empty()) {
      out.push_back(c);
    } else {
      out += escaped;
    }
  }
}

// gunicorn's error page, piece by piece: before the reason, between the reasons, before the
// message, after it.
constexpr std::string_view kPageOpen = "<html>\n  <head>\n    <title>";
constexpr std::string_view kPageTitleEnd = "</title>\n  </head>\n  <body>\n    <h1><p>";
constexpr std::string_view kPageHeadingEnd = "</p></h1>\n    ";
constexpr std::string_view kPageClose = "\n  </body>\n</html>\n";

}  // namespace

void ResponseFraming::start(int code, std::string status, HeaderFields fields,
                            std::optional<std::uint64_t> content_length, bool upgrade) {
  code_ = code;
  status_ = std::move(status);
  fields_ = std::move(fields);
  content_length_ = content_length;
  upgrade_ = upgrade;
}

void ResponseFraming::add_content_length(std::uint64_t length) {
  content_length_ = length;
  std::string value;
  append_decimal(value, length);
  fields_.emplace_back("Content-Length", std::move(value));
}

void ResponseFraming::write_head(std::string& out, std::string_view server, std::string_view date) {
  // RFC 9110 §8.6: a server MUST NOT send Content-Length in a 1xx or 204 response (gunicorn
  // removes it too). A 304 keeps it: there it is the length a 200 would have had.
  if ((code_ < 200 || code_ == 204) && content_length_) {
    std::erase_if(fields_, [](const auto& field) {
      return equals_ignore_case(field.first, "content-length");
    });
    content_length_.reset();
  }
  // Without a length the body is chunked, which an HTTP/1.0 client does not know (RFC 9112 §6.1:
  // a server MUST NOT send it Transfer-Encoding); its body then ends when the connection closes
  // (§6.3, rule 8), so that connection cannot stay.
  chunked_ = !content_length_ && request_.version_minor >= 1 && body_allowed();
  if (!content_length_ && !chunked_ && body_allowed()) must_close_ = true;

  // RFC 9112 §9.3 and §9.6: Connection says whether this connection stays; an app's
  // `Connection: upgrade` (a websocket handshake, RFC 9110 §7.8) passes through instead.
  std::string_view connection = "close";
  if (upgrade_) {
    connection = "upgrade";
  } else if (request_.keep_alive && !must_close_) {
    connection = "keep-alive";
  }
  append_head_start(out, request_.version_minor, status_, server, date, connection);
  if (chunked_) out += "Transfer-Encoding: chunked\r\n";
  for (const auto& [name, value] : fields_)
    append_field(out, name, value);
  out += "\r\n";
  head_sent_ = true;
}

void ResponseFraming::write_error(std::string& out, int code, std::string_view reason,
                                  std::string_view message, std::string_view server,
                                  std::string_view date) {
  code_ = code;
  status_.clear();
  append_decimal(status_, static_cast<std::uint64_t>(code));
  status_.push_back(' ');
  status_ += reason;
  fields_.clear();
  chunked_ = false;
  must_close_ = true;
  head_sent_ = true;

  const std::size_t page_size = kPageOpen.size() + kPageTitleEnd.size() + kPageHeadingEnd.size() +
                                kPageClose.size() + 2 * html_escaped_size(reason) +
                                html_escaped_size(message);
  // Always HTTP/1.1, with a body and Connection: close, as gunicorn's pages are: the request may
  // be too broken to know its version or method, and the connection ends here anyway.
  append_head_start(out, 1, status_, server, date, "close");
  append_field(out, "Content-Type", "text/html");
  out += "Content-Length: ";
  append_decimal(out, page_size);
  out += "\r\n\r\n";
  out += kPageOpen;
  append_html_escaped(out, reason);
  out += kPageTitleEnd;
  append_html_escaped(out, reason);
  out += kPageHeadingEnd;
  append_html_escaped(out, message);
  out += kPageClose;
}

void ResponseFraming::write_early_hints(std::string& out, const HeaderFields& fields) {
  // RFC 8297 §2: an informational response; no Server, Date or Connection of its own.
  out += "HTTP/1.1 103 Early Hints\r\n";
  for (const auto& [name, value] : fields)
    append_field(out, name, value);
  out += "\r\n";
}

}  // namespace monoceros::http
