// Response head serialisation helpers: the cached Date value and chunk framing.
#include "http/response_head.hpp"

#include <array>

#include "http/char_class.hpp"

namespace monoceros::http {
namespace {

constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

char* put2(char* out, int value) noexcept {
  out[0] = static_cast<char>('0' + value / 10);
  out[1] = static_cast<char>('0' + value % 10);
  return out + 2;
}

char* put_text(char* out, std::string_view text) noexcept {
  for (char c : text)
    *out++ = c;
  return out;
}

}  // namespace

std::size_t format_http_date(std::time_t when, char* buffer) noexcept {
  std::tm utc{};
  gmtime_r(&when, &utc);
  char* out = buffer;
  out = put_text(out, kDays[static_cast<std::size_t>(utc.tm_wday)]);
  out = put_text(out, ", ");
  out = put2(out, utc.tm_mday);
  *out++ = ' ';
  out = put_text(out, kMonths[static_cast<std::size_t>(utc.tm_mon)]);
  *out++ = ' ';
  const int year = utc.tm_year + 1900;
  out = put2(out, year / 100);
  out = put2(out, year % 100);
  *out++ = ' ';
  out = put2(out, utc.tm_hour);
  *out++ = ':';
  out = put2(out, utc.tm_min);
  *out++ = ':';
  out = put2(out, utc.tm_sec);
  out = put_text(out, " GMT");
  return static_cast<std::size_t>(out - buffer);
}

std::string_view HttpDate::now() noexcept {
  const std::time_t second = std::time(nullptr);
  if (second != second_) {
    second_ = second;
    length_ = format_http_date(second, text_);
  }
  return {text_, length_};
}

void append_chunk_size(std::string& out, std::uint64_t size) {
  char digits[16];
  int count = 0;
  do {
    digits[count++] = "0123456789abcdef"[size & 0xf];
    size >>= 4;
  } while (size != 0);
  while (count > 0)
    out.push_back(digits[--count]);
  out.append("\r\n");
}

bool is_hop_by_hop(std::string_view name) noexcept {
  constexpr std::array<std::string_view, 10> kDropped = {
      "connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
      "te",         "trailers",   "transfer-encoding",  "upgrade",
      "server",     "date"};
  for (std::string_view dropped : kDropped) {
    if (equals_ignore_case(name, dropped)) return true;
  }
  return false;
}

bool parse_content_length(std::string_view text, std::uint64_t& value) noexcept {
  if (text.empty() || text.size() > 19) return false;
  std::uint64_t result = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    result = result * 10 + static_cast<std::uint64_t>(c - '0');
  }
  value = result;
  return true;
}

void append_decimal(std::string& out, std::uint64_t value) {
  char digits[20];
  int count = 0;
  do {
    digits[count++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  while (count > 0)
    out.push_back(digits[--count]);
}

}  // namespace monoceros::http
