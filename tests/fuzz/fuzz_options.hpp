// Parser options picked by a fuzz input's first byte, so every leniency's code path is fuzzed.
#pragma once

#include <cstdint>

#include "http/parser.hpp"

namespace monoceros::fuzz {

inline http::ParserOptions parser_options_from(std::uint8_t bits) {
  http::ParserOptions options;
  options.permit_obsolete_folding = bits & 1;
  options.strip_header_spaces = bits & 2;
  options.permit_unconventional_http_method = bits & 4;
  options.permit_unconventional_http_version = bits & 8;
  options.casefold_http_method = bits & 16;
  options.require_host = !(bits & 32);
  options.header_map =
      (bits & 64) ? http::UnderscoreHeaders::dangerous : http::UnderscoreHeaders::drop;
  if (bits & 128) {
    options.limit_request_line = 64;
    options.limit_request_fields = 4;
    options.limit_request_field_size = 64;
  }
  return options;
}

}  // namespace monoceros::fuzz
