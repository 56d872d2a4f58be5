// A minimal JSON reader for test fixtures (the HTTP corpus): values, objects, arrays, strings.
// Not for production input: it trusts its files, keeps numbers as double and maps each \uXXXX
// escape at or below U+00FF to that single byte (the corpus encodes raw octets as latin-1).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace monoceros::testing::json {

struct Value {
  enum class Kind { null, boolean, number, string, array, object } kind = Kind::null;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Value> array;
  std::vector<std::pair<std::string, Value>> object;  // in file order

  bool is_null() const { return kind == Kind::null; }
  // The member `key` of an object, or nullptr.
  const Value* find(std::string_view key) const {
    for (const auto& [name, value] : object) {
      if (name == key) return &value;
    }
    return nullptr;
  }
};

class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}

  // The whole text as one value; nullopt (with error() set) on malformed input.
  std::optional<Value> read() {
    Value value;
    if (!read_value(value)) return std::nullopt;
    skip_space();
    if (pos_ != text_.size()) return fail("trailing characters");
    return value;
  }

  const std::string& error() const { return error_; }

 private:
  std::nullopt_t fail(const char* what) {
    if (error_.empty()) error_ = std::string(what) + " at offset " + std::to_string(pos_);
    return std::nullopt;
  }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                   text_[pos_] == '\r' || text_[pos_] == '\t')) {
      ++pos_;
    }
  }

  bool literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  bool read_value(Value& out) {
    skip_space();
    if (pos_ >= text_.size()) return (fail("unexpected end"), false);
    const char c = text_[pos_];
    if (c == '{') return read_object(out);
    if (c == '[') return read_array(out);
    if (c == '"') {
      out.kind = Value::Kind::string;
      return read_string(out.string);
    }
    if (literal("null")) {
      out.kind = Value::Kind::null;
      return true;
    }
    if (literal("true")) {
      out.kind = Value::Kind::boolean;
      out.boolean = true;
      return true;
    }
    if (literal("false")) {
      out.kind = Value::Kind::boolean;
      out.boolean = false;
      return true;
    }
    return read_number(out);
  }

  bool read_number(Value& out) {
    const std::size_t start = pos_;
    bool negative = false;
    if (pos_ < text_.size() && text_[pos_] == '-') {
      negative = true;
      ++pos_;
    }
    double value = 0;
    std::size_t digits = 0;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
      value = value * 10 + (text_[pos_] - '0');
      ++pos_;
      ++digits;
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      double scale = 0.1;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') {
        value += (text_[pos_] - '0') * scale;
        scale /= 10;
        ++pos_;
        ++digits;
      }
    }
    if (digits == 0) {
      pos_ = start;
      return (fail("bad value"), false);
    }
    out.kind = Value::Kind::number;
    out.number = negative ? -value : value;
    return true;
  }

  static void append_code_point(std::string& out, unsigned cp) {
    if (cp <= 0xff) {
      out.push_back(static_cast<char>(cp));  // latin-1: one code point is one octet
    } else if (cp <= 0x7ff) {
      out.push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out.push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }

  bool read_string(std::string& out) {
    ++pos_;  // opening quote
    while (pos_ < text_.size()) {
      const char c = text_[pos_++];
      if (c == '"') return true;
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= text_.size()) break;
      const char e = text_[pos_++];
      switch (e) {
        case '"':
          out.push_back('"');
          break;
        case '\\':
          out.push_back('\\');
          break;
        case '/':
          out.push_back('/');
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          if (pos_ + 4 > text_.size()) return (fail("short \\u escape"), false);
          unsigned cp = 0;
          for (int k = 0; k < 4; ++k) {
            const char h = text_[pos_++];
            cp <<= 4;
            if (h >= '0' && h <= '9') {
              cp |= static_cast<unsigned>(h - '0');
            } else if (h >= 'a' && h <= 'f') {
              cp |= static_cast<unsigned>(h - 'a' + 10);
            } else if (h >= 'A' && h <= 'F') {
              cp |= static_cast<unsigned>(h - 'A' + 10);
            } else {
              return (fail("bad \\u escape"), false);
            }
          }
          append_code_point(out, cp);
          break;
        }
        default:
          return (fail("bad escape"), false);
      }
    }
    return (fail("unterminated string"), false);
  }

  bool read_array(Value& out) {
    out.kind = Value::Kind::array;
    ++pos_;
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      Value item;
      if (!read_value(item)) return false;
      out.array.push_back(std::move(item));
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == ']') {
        ++pos_;
        return true;
      }
      return (fail("expected , or ]"), false);
    }
  }

  bool read_object(Value& out) {
    out.kind = Value::Kind::object;
    ++pos_;
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != '"') return (fail("expected key"), false);
      std::string key;
      if (!read_string(key)) return false;
      skip_space();
      if (pos_ >= text_.size() || text_[pos_] != ':') return (fail("expected :"), false);
      ++pos_;
      Value value;
      if (!read_value(value)) return false;
      out.object.emplace_back(std::move(key), std::move(value));
      skip_space();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '}') {
        ++pos_;
        return true;
      }
      return (fail("expected , or }"), false);
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::string error_;
};

inline std::optional<Value> parse(std::string_view text, std::string* error = nullptr) {
  Reader reader(text);
  auto value = reader.read();
  if (!value && error != nullptr) *error = reader.error();
  return value;
}

}  // namespace monoceros::testing::json
