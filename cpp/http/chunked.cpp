// ChunkedDecoder: the chunked transfer coding (RFC 9112 §7.1), incremental and split-invariant.
//
// The chunk-size line is a byte-at-a-time state machine, so every error is decided by the octet
// that causes it and the result never depends on how the input was split. Chunk data is handed to
// the sink as views of the input, never copied. Trailer lines are assembled (bounded) in line_
// and validated whole with the same field-line rules as the request head.
#include "http/chunked.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "http/byte_classes.hpp"
#include "http/field_line.hpp"
#include "http/limits.hpp"

namespace monoceros::http {
namespace {

using grammar::has;
using grammar::is_hexdig;
using grammar::is_ows;
using grammar::is_tchar;

// RFC 9112 §7.1.1: a recipient "ought to limit" chunk extensions; 4 KiB per chunk-size line
// (checklist F8; CVE-2023-39326).
constexpr std::uint32_t k_max_chunk_line = 4096;
// RFC 9112 §7.1: chunk-size = 1*HEXDIG; 16 digits fill 64 bits, so no wraparound (F4).
constexpr std::uint8_t k_max_size_digits = 16;

enum State : std::uint8_t {
  s_size_first = 0,    // zero-initialised: expecting the first HEXDIG of a chunk-size
  s_size,              // in the chunk-size
  s_size_bws,          // BWS after the size: only ";" may follow (RFC 9112 §7.1.1, F2)
  s_ext_before_name,   // after ";", BWS then chunk-ext-name
  s_ext_name,          // in chunk-ext-name (token)
  s_ext_after_name,    // BWS after the name: "=" or ";"
  s_ext_before_value,  // after "=", BWS then token / quoted-string
  s_ext_token_value,   // in a token value
  s_ext_quoted,        // in a quoted-string (RFC 9110 §5.6.4)
  s_ext_quoted_pair,   // after "\" in a quoted-string
  s_ext_after_quoted,  // right after the closing DQUOTE
  s_ext_after_value,   // BWS after a value: only ";" may follow
  s_size_lf,           // CR after the size: LF must follow
  s_ext_lf,            // CR after an extension: LF must follow
  s_data,              // chunk-data
  s_data_cr,           // CRLF after chunk-data (RFC 9112 §7.1, F9)
  s_data_lf,
  s_trailer,  // trailer-section lines, then the final CRLF (RFC 9112 §7.1.2)
  s_complete,
  s_failed,
};

// The options used when the decoder was given none: built once, never per call (ParserOptions
// holds a vector of strings).
const ParserOptions& default_options() {
  static const ParserOptions defaults{};
  return defaults;
}

bool is_forbidden_trailer(std::string_view name) {
  // RFC 9110 §6.5.1: fields that frame, route or authenticate the message must not arrive after
  // the body (checklist F11; gunicorn's forbidden trailer list).
  using grammar::iequals;
  return iequals(name, "host") || iequals(name, "content-length") ||
         iequals(name, "transfer-encoding") || iequals(name, "trailer") ||
         iequals(name, "authorization") || iequals(name, "te");
}

}  // namespace

void ChunkedDecoder::reset() noexcept {
  state_ = s_size_first;
  chunk_remaining_ = 0;
  body_size_ = 0;
  line_.clear();
  trailers_.clear();
  error_ = ParseError::none;
  size_digits_ = 0;
  line_length_ = 0;
  trailer_fields_ = 0;
  trailer_bytes_ = 0;
  field_bytes_ = 0;
  last_trailer_kept_ = false;
}

// One octet of a chunk-size line: chunk-size [ chunk-ext ] CRLF (RFC 9112 §7.1, §7.1.1).
// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ), accepted and ignored.
ParseError ChunkedDecoder::step_size_line(char c) noexcept {
  if (++line_length_ > k_max_chunk_line) return ParseError::invalid_chunk_extension;
  constexpr ParseError bad_size = ParseError::invalid_chunk_size;
  constexpr ParseError bad_ext = ParseError::invalid_chunk_extension;
  switch (state_) {
    case s_size_first:
      // No sign, no "0x", no leading whitespace, no empty size (F1, F3).
      if (!is_hexdig(c)) return bad_size;
      chunk_remaining_ = grammar::hex_value(c);
      size_digits_ = 1;
      state_ = s_size;
      return ParseError::none;
    case s_size:
      if (is_hexdig(c)) {
        if (++size_digits_ > k_max_size_digits) return bad_size;
        chunk_remaining_ = (chunk_remaining_ << 4) | grammar::hex_value(c);
      } else if (c == '\r') {
        state_ = s_size_lf;
      } else if (c == ';') {
        state_ = s_ext_before_name;
      } else if (is_ows(c)) {
        state_ = s_size_bws;
      } else {
        return bad_size;  // "6_0", "1x", a bare LF (F1, F5)
      }
      return ParseError::none;
    case s_size_bws:
      if (c == ';') {
        state_ = s_ext_before_name;
      } else if (!is_ows(c)) {
        return bad_size;  // "5 " then CRLF: whitespace without an extension (F2)
      }
      return ParseError::none;
    case s_ext_before_name:
      if (is_tchar(c)) {
        state_ = s_ext_name;
      } else if (!is_ows(c)) {
        return bad_ext;  // "5;" alone, "5;\x00", "5;\n" (F5, F7)
      }
      return ParseError::none;
    case s_ext_name:
      if (is_tchar(c)) return ParseError::none;
      if (c == '=') {
        state_ = s_ext_before_value;
      } else if (c == ';') {
        state_ = s_ext_before_name;
      } else if (c == '\r') {
        state_ = s_ext_lf;
      } else if (is_ows(c)) {
        state_ = s_ext_after_name;
      } else {
        return bad_ext;
      }
      return ParseError::none;
    case s_ext_after_name:
      if (c == '=') {
        state_ = s_ext_before_value;
      } else if (c == ';') {
        state_ = s_ext_before_name;
      } else if (!is_ows(c)) {
        return bad_ext;
      }
      return ParseError::none;
    case s_ext_before_value:
      if (c == '"') {
        state_ = s_ext_quoted;
      } else if (is_tchar(c)) {
        state_ = s_ext_token_value;
      } else if (!is_ows(c)) {
        return bad_ext;
      }
      return ParseError::none;
    case s_ext_token_value:
      if (is_tchar(c)) return ParseError::none;
      if (c == ';') {
        state_ = s_ext_before_name;
      } else if (c == '\r') {
        state_ = s_ext_lf;
      } else if (is_ows(c)) {
        state_ = s_ext_after_value;
      } else {
        return bad_ext;
      }
      return ParseError::none;
    case s_ext_quoted:
      if (c == '"') {
        state_ = s_ext_after_quoted;
      } else if (c == '\\') {
        state_ = s_ext_quoted_pair;
      } else if (!has(c, grammar::k_qdtext)) {
        return bad_ext;  // CR, LF, NUL inside quotes; an unbalanced quote ends here (F6, F7)
      }
      return ParseError::none;
    case s_ext_quoted_pair:
      if (!has(c, grammar::k_quoted_pair)) return bad_ext;
      state_ = s_ext_quoted;
      return ParseError::none;
    case s_ext_after_quoted:
      if (c == ';') {
        state_ = s_ext_before_name;
      } else if (c == '\r') {
        state_ = s_ext_lf;
      } else if (is_ows(c)) {
        state_ = s_ext_after_value;
      } else {
        return bad_ext;
      }
      return ParseError::none;
    case s_ext_after_value:
      if (c == ';') {
        state_ = s_ext_before_name;
      } else if (!is_ows(c)) {
        return bad_ext;
      }
      return ParseError::none;
    case s_size_lf:
      // RFC 9112 §2.2: CR must be followed by LF; "5\rhello" is refused (F6).
      if (c != '\n') return bad_size;
      return end_size_line();
    case s_ext_lf:
      if (c != '\n') return bad_ext;  // "5;a\rX" (gunicorn InvalidChunkExtension, F6)
      return end_size_line();
    default:
      return bad_size;  // unreachable: feed() routes the other states elsewhere
  }
}

ParseError ChunkedDecoder::end_size_line() noexcept {
  line_length_ = 0;
  size_digits_ = 0;
  if (chunk_remaining_ == 0) {
    // RFC 9112 §7.1: last-chunk = 1*("0") [ chunk-ext ] CRLF, then trailer-section CRLF.
    state_ = s_trailer;
    line_.clear();
    trailer_fields_ = 0;
    trailer_bytes_ = 0;
    field_bytes_ = 0;
    last_trailer_kept_ = false;
    return ParseError::none;
  }
  // RFC 9112 §7.1: "MUST anticipate ... integer conversion overflows" of the running total.
  if (chunk_remaining_ > std::numeric_limits<std::uint64_t>::max() - body_size_) {
    return ParseError::invalid_chunk_size;
  }
  // RFC 9110 §15.5.14: refused as soon as the declared size says so, not after reading it.
  if (body_limit_ != 0 && chunk_remaining_ > body_limit_ - body_size_) {
    return ParseError::body_too_large;
  }
  state_ = s_data;
  return ParseError::none;
}

// One complete trailer line in line_ (CRLF included), validated like a header field line.
ParseError ChunkedDecoder::take_trailer_line() {
  const ParserOptions& options = options_ != nullptr ? *options_ : default_options();
  const grammar::EffectiveLimits limits = grammar::effective_limits(options);
  const std::size_t size = line_.size();
  // RFC 9112 §2.2: CRLF only; "0\r\n\n" and other bare LFs are refused (F11).
  if (size < 2 || line_[size - 2] != '\r') return ParseError::invalid_trailer;
  trailer_bytes_ += size;
  const bool continuation = is_ows(line_.front());
  if (continuation && (trailer_fields_ == 0 || !options.permit_obsolete_folding)) {
    // RFC 9112 §5.2: obs-fold, only with permit_obsolete_folding and after a field.
    return ParseError::invalid_trailer;
  }
  if (!continuation && trailer_fields_ >= limits.fields) return ParseError::invalid_trailer;
  // The same field-line grammar as the request head (RFC 9112 §7.1.2).
  grammar::FieldLine field;
  ParseError error = ParseError::none;
  if (grammar::scan_field_line(line_, size, continuation, options.strip_header_spaces, field,
                               error) != grammar::LineStatus::complete ||
      field.length != size) {
    return ParseError::invalid_trailer;
  }
  if (continuation) {
    field_bytes_ += size;
    if (last_trailer_kept_) {
      std::string& value = trailers_.back().second;
      value.push_back(' ');
      value.append(field.value);
    }
    return ParseError::none;
  }
  if (is_forbidden_trailer(field.name)) return ParseError::invalid_trailer;
  ++trailer_fields_;
  field_bytes_ = size;
  // gunicorn's underscore policy applies to trailers too; trailers never carry forwarder
  // fields (they cannot be trusted for routing), so only header_map decides.
  bool keep = true;
  if (field.name_has_underscore) {
    switch (options.header_map) {
      case UnderscoreHeaders::drop:
        keep = false;
        break;
      case UnderscoreHeaders::refuse:
        return ParseError::invalid_trailer;
      case UnderscoreHeaders::dangerous:
        break;
    }
  }
  last_trailer_kept_ = keep;
  if (keep) trailers_.emplace_back(std::string(field.name), std::string(field.value));
  return ParseError::none;
}

ChunkedResult ChunkedDecoder::feed(std::string_view input, ChunkSink sink, void* context) {
  auto fail = [this](ParseError error) {
    state_ = s_failed;
    error_ = error;
    return ChunkedResult{ChunkedStatus::error, error, 0};
  };
  if (state_ == s_failed) return {ChunkedStatus::error, error_, 0};
  if (state_ == s_complete) return {ChunkedStatus::complete, ParseError::none, 0};

  const std::size_t n = input.size();
  std::size_t i = 0;
  while (i < n) {
    switch (state_) {
      case s_data: {
        const std::size_t take =
            static_cast<std::size_t>(std::min<std::uint64_t>(chunk_remaining_, n - i));
        if (sink != nullptr) sink(context, input.substr(i, take));
        i += take;
        chunk_remaining_ -= take;
        body_size_ += take;
        if (chunk_remaining_ == 0) state_ = s_data_cr;
        break;
      }
      case s_data_cr:
        // RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF (F9).
        if (input[i] != '\r') return fail(ParseError::chunk_missing_terminator);
        ++i;
        state_ = s_data_lf;
        break;
      case s_data_lf:
        if (input[i] != '\n') return fail(ParseError::chunk_missing_terminator);
        ++i;
        state_ = s_size_first;
        break;
      case s_trailer: {
        const grammar::EffectiveLimits limits =
            grammar::effective_limits(options_ != nullptr ? *options_ : default_options());
        const char first = line_.empty() ? input[i] : line_.front();
        // Octets this line may take, CRLF included: a field's size limit (obs-fold lines add
        // to the field they continue), never less than the final CRLF, within the section cap.
        std::size_t room =
            is_ows(first)
                ? (limits.field_size > field_bytes_ ? limits.field_size - field_bytes_ : 0)
                : limits.field_size;
        if (first == '\r') room = std::max<std::size_t>(room, 2);
        const std::size_t section_left =
            trailer_bytes_ < limits.section_cap ? limits.section_cap - trailer_bytes_ : 0;
        room = std::min(room, section_left);
        if (line_.size() >= room) return fail(ParseError::invalid_trailer);
        const std::size_t allowed = room - line_.size();
        const std::size_t scan = std::min(n - i, allowed);
        const void* lf = std::memchr(input.data() + i, '\n', scan);
        if (lf == nullptr) {
          if (scan == allowed) return fail(ParseError::invalid_trailer);  // too long (F11)
          line_.append(input.data() + i, scan);
          i += scan;
          break;
        }
        const std::size_t end =
            static_cast<std::size_t>(static_cast<const char*>(lf) - input.data()) + 1;
        line_.append(input.data() + i, end - i);
        i = end;
        if (line_.size() == 2 && line_[0] == '\r') {
          // The empty line that ends the trailer section and the message.
          line_.clear();
          state_ = s_complete;
          return {ChunkedStatus::complete, ParseError::none, i};
        }
        const ParseError e = take_trailer_line();
        line_.clear();
        if (e != ParseError::none) return fail(e);
        break;
      }
      default: {
        const ParseError e = step_size_line(input[i]);
        ++i;
        if (e != ParseError::none) return fail(e);
        break;
      }
    }
  }
  return {ChunkedStatus::partial, ParseError::none, n};
}

}  // namespace monoceros::http
