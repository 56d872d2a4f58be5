// Replays gunicorn's request corpus (../shared/http-corpus) through parse_request and the
// chunked decoder, comparing every field with the case's JSON expectations.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "check.hpp"
#include "http/http_test_support.hpp"
#include "json_mini.hpp"

using namespace monoceros::http;
namespace fs = std::filesystem;
namespace json = monoceros::testing::json;

namespace {

// Where monoceros deliberately differs from gunicorn (docs/differences.md), per the conformance
// checklist. The case still runs; it must produce this outcome instead of the JSON's.
struct Difference {
  const char* expected;  // "error:<status>" or "partial-in-chunked-body"
  const char* reason;
};
const std::map<std::string, Difference>& differences() {
  static const std::map<std::string, Difference> table = {
      {"invalid/version_02",
       {"error:505", "HTTP/2.0 in an HTTP/1.x request line is 505, not 400 (checklist B2)"}},
      {"valid/027",
       {"error:400", "raw octets >= 0x80 in the request-target are refused (checklist A9)"}},
      {"valid/009",
       {"error:400",
        "Content-Length with Transfer-Encoding (identity) is refused (checklist D9, E4)"}},
      {"valid/025", {"error:501", "gzip then chunked is refused (checklist E10)"}},
      {"valid/025_line", {"error:501", "gzip then chunked is refused (checklist E10)"}},
      {"valid/rfc9112_smuggle_gzip_chunked_01",
       {"error:501",
        "a compressed request body is refused, never passed on coded (checklist E10)"}},
      {"invalid/rfc9112_chunked_missing_final_crlf_01",
       {"partial-in-chunked-body",
        "the decoder waits for the final CRLF; the connection answers 400 on EOF mid-body"}},
  };
  return table;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string base64_decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    const int v = value(c);
    if (v < 0) continue;  // '=' padding
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  return out;
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string printable(std::string_view text) {
  std::string out;
  for (unsigned char c : text.substr(0, 120)) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  return out;
}

// Applies a case's gunicorn settings. Returns false (with a reason) for settings outside the
// parser, so the case is skipped rather than silently run with the wrong configuration.
bool apply_config(const json::Value& config, std::string_view bytes, ParserOptions& options,
                  bool& trusted, std::string& skip_reason) {
  for (const auto& [key, value] : config.object) {
    if (key == "limit_request_line") {
      options.limit_request_line = static_cast<std::size_t>(value.number);
    } else if (key == "limit_request_fields") {
      options.limit_request_fields = static_cast<std::size_t>(value.number);
    } else if (key == "limit_request_field_size") {
      options.limit_request_field_size = static_cast<std::size_t>(value.number);
    } else if (key == "permit_obsolete_folding") {
      options.permit_obsolete_folding = value.boolean;
    } else if (key == "strip_header_spaces") {
      options.strip_header_spaces = value.boolean;
    } else if (key == "permit_unconventional_http_method") {
      options.permit_unconventional_http_method = value.boolean;
    } else if (key == "permit_unconventional_http_version") {
      options.permit_unconventional_http_version = value.boolean;
    } else if (key == "casefold_http_method") {
      options.casefold_http_method = value.boolean;
    } else if (key == "header_map") {
      options.header_map = value.string == "refuse"      ? UnderscoreHeaders::refuse
                           : value.string == "dangerous" ? UnderscoreHeaders::dangerous
                                                         : UnderscoreHeaders::drop;
    } else if (key == "forwarder_headers") {
      options.forwarder_headers.clear();
      std::stringstream list(value.string);
      std::string item;
      while (std::getline(list, item, ',')) {
        if (item == "*") options.forwarder_headers_all = true;
        if (!item.empty()) options.forwarder_headers.push_back(upper(item));
      }
    } else if (key == "forwarded_allow_ips") {
      trusted = value.string == "*";
    } else if (key == "proxy_protocol") {
      // Only cases that really carry a PROXY header need the feature.
      if (bytes.substr(0, 6) == "PROXY " ||
          bytes.substr(0, 12) == std::string_view("\r\n\r\n\0\r\nQUIT\n", 12)) {
        skip_reason = "PROXY protocol header (parsed by the connection layer, not parse_request)";
        return false;
      }
    } else {
      skip_reason = "unknown config key " + key;
      return false;
    }
  }
  return true;
}

// What replaying a case's bytes produced.
struct Outcome {
  std::string kind;  // "ok", "error:<status>", "partial", "partial-in-chunked-body", "mismatch"
  std::string detail;
};

std::vector<std::string>& truncated_bodies() {
  static std::vector<std::string> notes;
  return notes;
}

std::string version_text(const Request& r) {
  return std::to_string(r.version_major) + "." + std::to_string(r.version_minor);
}

// Parses request after request, consuming each body per its framing, and compares with
// `expected` (null for invalid cases: then only the outcome matters).
Outcome replay(std::vector<char>& bytes, const ParserOptions& options, bool trusted,
               const json::Value* expected) {
  std::size_t pos = 0;
  std::size_t index = 0;
  while (true) {
    if (expected != nullptr && index == expected->array.size()) {
      return {"ok", ""};
    }
    std::span<char> rest(bytes.data() + pos, bytes.size() - pos);
    Request request;
    const ParseResult head = parse_request(rest, options, trusted, request);
    if (head.status == ParseStatus::partial) return {"partial", "head"};
    if (head.status == ParseStatus::error) {
      return {"error:" + std::to_string(describe(head.error).status), error_name(head.error)};
    }
    // Re-parse the same head fed one octet at a time: same result (split invariance).
    if (rest.size() < 20000) {
      std::vector<char> copy(bytes.begin() + static_cast<std::ptrdiff_t>(pos), bytes.end());
      const ParseResult grown =
          test::parse_growing(std::string_view(copy.data(), copy.size()), 1, options);
      if (grown.status != head.status || grown.consumed != head.consumed) {
        return {"mismatch", "byte-at-a-time head parse differs"};
      }
    }
    pos += head.consumed;
    std::string body;
    std::vector<std::pair<std::string, std::string>> trailers;
    if (request.framing == BodyFraming::content_length) {
      std::size_t length = request.content_length;
      if (bytes.size() - pos < length) {
        // A body cut short by the end of the file. gunicorn's corpus runner compares the bytes
        // present for the last request (valid/099 declares 17914 and holds 8599); otherwise the
        // request is incomplete.
        const bool last = expected != nullptr && index + 1 == expected->array.size();
        if (!last) return {"partial", "content-length body"};
        length = bytes.size() - pos;
        truncated_bodies().push_back(std::to_string(request.content_length) + " declared, " +
                                     std::to_string(length) + " present");
      }
      body.assign(bytes.data() + pos, length);
      pos += length;
    } else if (request.framing == BodyFraming::chunked) {
      const std::string_view data(bytes.data() + pos, bytes.size() - pos);
      ChunkedDecoder decoder(&options);
      const ChunkedResult r = decoder.feed(data, test::append_sink, &body);
      const test::Decoded bytewise = test::decode_bytewise(data, &options);
      if (bytewise.status != r.status || bytewise.error != r.error ||
          (r.status == ChunkedStatus::complete && bytewise.payload != body)) {
        return {"mismatch", "byte-at-a-time chunked decode differs"};
      }
      if (r.status == ChunkedStatus::error) {
        return {"error:" + std::to_string(describe(r.error).status), error_name(r.error)};
      }
      if (r.status == ChunkedStatus::partial) return {"partial-in-chunked-body", ""};
      trailers = decoder.trailers();
      pos += r.consumed;
    }

    if (expected != nullptr) {
      const json::Value& want = expected->array[index];
      auto field = [&](const char* key) { return want.find(key)->string; };
      std::ostringstream diff;
      if (request.method != field("method")) diff << " method=" << request.method;
      if (request.target != field("target")) diff << " target=" << request.target;
      if (request.path != field("path")) diff << " path=" << request.path;
      if (request.query != field("query")) diff << " query=" << request.query;
      if (request.fragment != field("fragment")) diff << " fragment=" << request.fragment;
      if (version_text(request) != field("version")) diff << " version=" << version_text(request);
      const auto& headers = want.find("headers")->array;
      if (headers.size() != request.headers.size()) {
        diff << " header count " << request.headers.size() << " vs " << headers.size();
      } else {
        for (std::size_t i = 0; i < headers.size(); ++i) {
          if (upper(request.headers[i].name) != headers[i].array[0].string ||
              request.headers[i].value != headers[i].array[1].string) {
            diff << " header[" << i << "]=" << printable(request.headers[i].name) << ": "
                 << printable(request.headers[i].value);
          }
        }
      }
      if (body != base64_decode(field("body_b64"))) diff << " body differs";
      const auto& want_trailers = want.find("trailers")->array;
      if (want_trailers.size() != trailers.size()) {
        diff << " trailer count " << trailers.size();
      } else {
        for (std::size_t i = 0; i < trailers.size(); ++i) {
          if (upper(trailers[i].first) != want_trailers[i].array[0].string ||
              trailers[i].second != want_trailers[i].array[1].string) {
            diff << " trailer[" << i << "]";
          }
        }
      }
      if (!diff.str().empty()) return {"mismatch", "request " + std::to_string(index) + diff.str()};
    }
    ++index;
    // A closing connection parses nothing after this request (RFC 9112 §9.6).
    if (!request.keep_alive) {
      if (expected != nullptr && index != expected->array.size()) {
        return {"mismatch", "connection closes after request " + std::to_string(index - 1)};
      }
      return {"ok", ""};
    }
    if (pos == bytes.size()) {
      if (expected != nullptr && index != expected->array.size()) return {"partial", "next head"};
      return {"ok", ""};
    }
  }
}

bool needs_host_leniency(const json::Value& requests) {
  for (const json::Value& r : requests.array) {
    if (r.find("version")->string != "1.1") continue;
    bool has_host = false;
    for (const json::Value& h : r.find("headers")->array)
      has_host |= h.array[0].string == "HOST";
    if (!has_host) return true;
  }
  return false;
}

}  // namespace

TEST(corpus_gunicorn_cases) {
  const fs::path corpus = test::corpus_dir();
  if (corpus.empty()) {
    std::fprintf(stderr, "corpus_test: skipped: ../shared not found (looked for %s)\n",
                 (test::shared_dir() / "http-corpus").string().c_str());
    return;
  }

  std::vector<std::string> names;
  for (const char* group : {"valid", "invalid"}) {
    for (const auto& entry : fs::directory_iterator(corpus / group)) {
      if (entry.path().extension() == ".json") {
        names.push_back(std::string(group) + "/" + entry.path().stem().string());
      }
    }
  }
  std::sort(names.begin(), names.end());

  int exact = 0;
  int documented = 0;
  int failed = 0;
  std::vector<std::string> skipped;
  std::vector<std::string> difference_notes;
  std::vector<std::string> host_optional;
  for (const std::string& name : names) {
    std::string parse_error;
    const auto spec = json::parse(read_file(corpus / (name + ".json")), &parse_error);
    if (!spec) {
      std::fprintf(stderr, "corpus %s: bad JSON: %s\n", name.c_str(), parse_error.c_str());
      ++failed;
      continue;
    }
    std::string raw = read_file(corpus / (name + ".http"));
    std::vector<char> bytes(raw.begin(), raw.end());
    const bool valid = name.rfind("valid/", 0) == 0;

    ParserOptions options;
    bool trusted = false;
    std::string skip_reason;
    const json::Value* config = spec->find("config");
    if (config != nullptr && !apply_config(*config, raw, options, trusted, skip_reason)) {
      skipped.push_back(name + ": " + skip_reason);
      continue;
    }
    const json::Value* error_name_json = spec->find("error");
    if (!valid && error_name_json != nullptr && error_name_json->string == "InvalidSchemeHeaders") {
      skipped.push_back(name + ": secure_scheme_headers are checked by the WSGI layer");
      continue;
    }
    if (valid && needs_host_leniency(*spec->find("requests"))) {
      // gunicorn accepts HTTP/1.1 without Host (#3361); we refuse it unless require_host = false.
      options.require_host = false;
      host_optional.push_back(name);
    }

    std::string want;
    if (valid) {
      want = "ok";
    } else {
      const json::Value* status = spec->find("status");
      want = status == nullptr || status->is_null()
                 ? "partial"
                 : "error:" + std::to_string(static_cast<int>(status->number));
    }
    const auto difference = differences().find(name);
    if (difference != differences().end()) want = difference->second.expected;

    truncated_bodies().clear();
    const Outcome got = replay(bytes, options, trusted, valid ? spec->find("requests") : nullptr);
    for (const std::string& note : truncated_bodies()) {
      difference_notes.push_back(name + ": body truncated in the corpus file (" + note +
                                 "); compared the bytes present");
    }
    if (got.kind == want) {
      if (difference != differences().end()) {
        ++documented;
        difference_notes.push_back(name + ": " + difference->second.reason);
      } else {
        ++exact;
      }
    } else {
      ++failed;
      std::fprintf(stderr, "corpus %s: want %s, got %s %s\n", name.c_str(), want.c_str(),
                   got.kind.c_str(), got.detail.c_str());
    }
  }

  std::fprintf(stderr,
               "corpus_test: %zu cases: %d as gunicorn expects, %d with a documented difference, "
               "%zu skipped, %d failed\n",
               names.size(), exact, documented, skipped.size(), failed);
  for (const std::string& note : difference_notes)
    std::fprintf(stderr, "  differs: %s\n", note.c_str());
  for (const std::string& note : skipped)
    std::fprintf(stderr, "  skipped: %s\n", note.c_str());
  std::string hosts;
  for (const std::string& name : host_optional)
    hosts += " " + name;
  std::fprintf(stderr, "  run with require_host = false (HTTP/1.1 without Host):%s\n",
               hosts.c_str());
  CHECK_EQ(failed, 0);
  CHECK_EQ(names.size(), 137u);
  CHECK_EQ(exact + documented + static_cast<int>(skipped.size()), 137);
}
