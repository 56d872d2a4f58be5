// The one table from ParseError to status, reason phrase and message.
#include "http/errors.hpp"

#include <array>
#include <cstddef>

namespace monoceros::http {
namespace {

struct Entry {
  ParseError error;  // kept beside its row so a reordered enum fails to compile (see below)
  ErrorInfo info;
};

// RFC 9110 §15 reason phrases; statuses as documented on each enumerator.
constexpr std::array<Entry, static_cast<std::size_t>(ParseError::count_)> kTable = {{
    {ParseError::none, {500, "Internal Server Error", "no parse error was recorded"}},
    {ParseError::invalid_request_line, {400, "Bad Request", "Invalid request line"}},
    {ParseError::invalid_method, {400, "Bad Request", "Invalid request method"}},
    {ParseError::invalid_target, {400, "Bad Request", "Invalid request target"}},
    {ParseError::invalid_version, {400, "Bad Request", "Invalid HTTP version"}},
    {ParseError::unsupported_version,
     {505, "HTTP Version Not Supported", "Unsupported HTTP version"}},
    {ParseError::request_line_too_long, {414, "URI Too Long", "Request line is too long"}},
    {ParseError::invalid_header_name, {400, "Bad Request", "Invalid header name"}},
    {ParseError::invalid_header, {400, "Bad Request", "Invalid header"}},
    {ParseError::obsolete_folding, {400, "Bad Request", "Obsolete line folding is not accepted"}},
    {ParseError::too_many_headers,
     {431, "Request Header Fields Too Large", "Too many header fields"}},
    {ParseError::header_too_large,
     {431, "Request Header Fields Too Large", "Header field or header section too large"}},
    {ParseError::missing_host, {400, "Bad Request", "Missing Host header"}},
    {ParseError::invalid_host, {400, "Bad Request", "Invalid or duplicate Host header"}},
    {ParseError::duplicate_header, {400, "Bad Request", "Duplicate header field"}},
    {ParseError::invalid_content_length, {400, "Bad Request", "Invalid Content-Length"}},
    {ParseError::conflicting_framing,
     {400, "Bad Request", "Content-Length together with Transfer-Encoding"}},
    {ParseError::invalid_transfer_encoding, {400, "Bad Request", "Invalid Transfer-Encoding"}},
    {ParseError::unsupported_transfer_coding,
     {501, "Not Implemented", "Unsupported transfer coding"}},
    {ParseError::invalid_chunk_size, {400, "Bad Request", "Invalid chunk size"}},
    {ParseError::invalid_chunk_extension, {400, "Bad Request", "Invalid chunk extension"}},
    {ParseError::chunk_missing_terminator, {400, "Bad Request", "Chunk missing terminator"}},
    {ParseError::invalid_trailer, {400, "Bad Request", "Invalid trailer field"}},
    {ParseError::expectation_failed, {417, "Expectation Failed", "Unsupported expectation"}},
    {ParseError::invalid_underscore_header,
     {400, "Bad Request", "Header name with underscore refused"}},
    {ParseError::invalid_scheme_headers, {400, "Bad Request", "Contradictory scheme headers"}},
    {ParseError::configuration_problem,
     {500, "Internal Server Error", "PATH_INFO does not start with SCRIPT_NAME"}},
    {ParseError::invalid_proxy_line, {400, "Bad Request", "Invalid PROXY protocol header"}},
    {ParseError::forbidden_proxy,
     {403, "Forbidden", "PROXY protocol header from a peer that may not send one"}},
    {ParseError::body_too_large, {413, "Content Too Large", "Request body too large"}},
    {ParseError::body_storage_failed,
     {500, "Internal Server Error", "The request body could not be stored"}},
    {ParseError::body_spool_full,
     {503, "Service Unavailable", "Too many request bodies are waiting to be served; try again"}},
}};

constexpr bool table_matches_enum() {
  for (std::size_t i = 0; i < kTable.size(); ++i) {
    if (static_cast<std::size_t>(kTable[i].error) != i) return false;
  }
  return true;
}
static_assert(table_matches_enum(), "kTable rows must follow the order of enum ParseError");

// Answer for a value outside the enum (a caller bug): still a valid response, never UB.
constexpr ErrorInfo kOutOfRange = {500, "Internal Server Error", "unknown parse error"};

}  // namespace

const ErrorInfo& describe(ParseError error) noexcept {
  const auto index = static_cast<std::size_t>(error);
  if (index >= kTable.size()) return kOutOfRange;
  return kTable[index].info;
}

}  // namespace monoceros::http
