// parse_request's internals shared by its pieces: the scan context and the outcome of a step.
//
// The pieces (parser_request_line.hpp, parser_field_lines.hpp, parser_field_rules.hpp) are
// headers that parser.cpp alone includes, their functions in an unnamed namespace: the parser
// stays one translation unit of internal functions, so the compiler inlines into parse_request
// exactly what it inlined before the split. Each step runs once per request or once per line of
// the ~0.2 us hot path, where a call across object files would be a cost with nothing to show.
#pragma once

#include <cstddef>
#include <cstdint>

#include "http/limits.hpp"
#include "http/parser.hpp"

namespace monoceros::http::detail {

// RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request-line; we
// ignore a few and refuse a stream of them (checklist A16).
inline constexpr std::size_t k_max_leading_empty_lines = 8;

enum class Step : std::uint8_t { done, partial, error };

struct Scan {
  const char* b;
  std::size_t n;
  const ParserOptions& options;
  bool peer_is_trusted;
  const grammar::EffectiveLimits& limits;
};

}  // namespace monoceros::http::detail
