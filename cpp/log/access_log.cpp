// AccessLog: gunicorn's access_log_format (Python %-style atoms) compiled once, applied per
// request without touching Python.
#include "log/access_log.hpp"

#include <cctype>
#include <cstdio>

namespace monoceros::log {
namespace {

constexpr std::string_view kConversions = "sdiroxXeEfFgGc";

// gunicorn escapes double quotes inside every string atom so a line stays parseable.
void append_escaped(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '"') out.push_back('\\');
    out.push_back(c);
  }
}

void append_or_dash(std::string& out, std::string_view value) {
  if (value.empty()) {
    out.push_back('-');
  } else {
    append_escaped(out, value);
  }
}

int base64_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

// The user name of "Basic base64(user:password)", or "" when it is not Basic credentials.
std::string basic_user(std::string_view authorization) {
  constexpr std::string_view prefix = "basic ";
  if (authorization.size() <= prefix.size()) return {};
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != prefix[i]) return {};
  }
  std::string decoded;
  unsigned accumulator = 0;
  int bits = 0;
  for (char c : authorization.substr(prefix.size())) {
    if (c == '=') break;
    const int value = base64_value(c);
    if (value < 0) return {};
    accumulator = (accumulator << 6) | static_cast<unsigned>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      decoded.push_back(static_cast<char>((accumulator >> bits) & 0xff));
    }
  }
  const std::size_t colon = decoded.find(':');
  return colon == std::string::npos ? std::string() : decoded.substr(0, colon);
}

void append_number(std::string& out, long long value) {
  out += std::to_string(value);
}

}  // namespace

std::string access_time(std::time_t when) {
  std::tm local{};
  ::localtime_r(&when, &local);
  char text[64];
  const std::size_t length = std::strftime(text, sizeof text, "[%d/%b/%Y:%H:%M:%S %z]", &local);
  return std::string(text, length);
}

AccessLog::AccessLog(std::string_view format) {
  std::string literal;
  auto flush_literal = [&] {
    if (!literal.empty()) pieces_.push_back({Kind::literal, 0, std::move(literal)});
    literal.clear();
  };
  std::size_t i = 0;
  while (i < format.size()) {
    const char c = format[i];
    if (c != '%') {
      literal.push_back(c);
      ++i;
      continue;
    }
    if (i + 1 < format.size() && format[i + 1] == '%') {
      literal.push_back('%');
      i += 2;
      continue;
    }
    const std::size_t open = i + 1;
    const std::size_t close =
        open < format.size() && format[open] == '(' ? format.find(')', open) : std::string::npos;
    if (close == std::string::npos) {  // not a mapping key: keep the text as it is
      literal.push_back(c);
      ++i;
      continue;
    }
    // Skip flags, width and precision, then the conversion character.
    std::size_t end = close + 1;
    while (end < format.size() && kConversions.find(format[end]) == std::string_view::npos &&
           (std::isdigit(static_cast<unsigned char>(format[end])) || format[end] == '-' ||
            format[end] == '.' || format[end] == ' ' || format[end] == '#' || format[end] == '+')) {
      ++end;
    }
    if (end < format.size()) ++end;
    flush_literal();
    const std::string_view key = format.substr(open + 1, close - open - 1);
    Piece piece{Kind::atom, 0, {}};
    if (key.size() >= 3 && key.front() == '{' && key[key.size() - 2] == '}') {
      const char suffix = key.back();
      piece.kind = suffix == 'i'   ? Kind::request_header
                   : suffix == 'o' ? Kind::response_header
                   : suffix == 'e' ? Kind::environ
                                   : Kind::literal;
      for (char k : key.substr(1, key.size() - 3)) {
        piece.text.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(k))));
      }
      if (piece.kind == Kind::literal) piece.text = "-";
    } else if (key.size() == 1) {
      piece.atom = key[0];
    } else {
      piece = {Kind::literal, 0, "-"};  // unknown atoms print "-", as in gunicorn
    }
    pieces_.push_back(std::move(piece));
    i = end;
  }
  flush_literal();
}

bool AccessLog::uses(char atom) const noexcept {
  for (const Piece& piece : pieces_) {
    if (piece.kind == Kind::atom && piece.atom == atom) return true;
  }
  return false;
}

void AccessLog::format(const AccessRecord& record, std::string& out) const {
  std::string scratch;
  for (const Piece& piece : pieces_) {
    switch (piece.kind) {
      case Kind::literal:
        out += piece.text;
        continue;
      case Kind::request_header:
      case Kind::response_header:
      case Kind::environ: {
        const AtomLookup lookup = piece.kind == Kind::request_header    ? record.request_header
                                  : piece.kind == Kind::response_header ? record.response_header
                                                                        : record.environ_value;
        scratch.clear();
        if (lookup && lookup(record.context, piece.text, scratch)) {
          append_escaped(out, scratch);
        } else {
          out.push_back('-');
        }
        continue;
      }
      case Kind::atom:
        break;
    }
    const std::int64_t us = record.duration_us;
    switch (piece.atom) {
      case 'h':
        append_or_dash(out, record.remote_addr);
        break;
      case 'l':
        out.push_back('-');
        break;
      case 'u':
        append_or_dash(out, basic_user(record.authorization));
        break;
      case 't':
        out += access_time(std::time(nullptr));
        break;
      case 'r':
        append_escaped(out, record.method);
        out.push_back(' ');
        append_escaped(out, record.raw_uri);
        out.push_back(' ');
        append_escaped(out, record.protocol);
        break;
      case 'm':
        append_escaped(out, record.method);
        break;
      case 'U':
        append_escaped(out, record.path_info);
        break;
      case 'q':
        append_escaped(out, record.query);
        break;
      case 'H':
        append_escaped(out, record.protocol);
        break;
      case 's':
        append_number(out, record.status);
        break;
      case 'B':
      case 'b':
        append_number(out, static_cast<long long>(record.bytes_sent));
        break;
      case 'f':
        append_or_dash(out, record.referer);
        break;
      case 'a':
        append_or_dash(out, record.user_agent);
        break;
      case 'T':
        append_number(out, us / 1'000'000);
        break;
      case 'M':
        append_number(out, us / 1'000);
        break;
      case 'D':
        append_number(out, us);
        break;
      case 'L': {
        char text[48];
        std::snprintf(text, sizeof text, "%lld.%06lld", static_cast<long long>(us / 1'000'000),
                      static_cast<long long>(us % 1'000'000));
        out += text;
        break;
      }
      case 'p':
        out.push_back('<');
        append_number(out, record.pid);
        out.push_back('>');
        break;
      default:
        out.push_back('-');
        break;
    }
  }
}

}  // namespace monoceros::log
