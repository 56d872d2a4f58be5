// Many-octets-at-a-time searches for the two long runs in a head: field values and targets.
// SSE2 (part of every x86-64) takes 16 octets per step; elsewhere a portable 8-octet word does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__) && !defined(MONOCEROS_HTTP_PORTABLE_SCAN)
#include <emmintrin.h>
#define MONOCEROS_HTTP_SSE2 1
#endif

namespace monoceros::http::grammar::wide {

inline constexpr std::uint64_t k_ones = 0x0101010101010101ULL;
inline constexpr std::uint64_t k_highs = 0x8080808080808080ULL;

// An unaligned 8-octet load without undefined behaviour; the caller guarantees 8 readable octets.
inline std::uint64_t load(const char* p) noexcept {
  std::uint64_t word;
  std::memcpy(&word, p, sizeof word);
  return word;
}

// Nonzero if some octet of `word` is < n (an exact "any" test for n <= 128).
constexpr std::uint64_t any_below(std::uint64_t word, std::uint64_t n) noexcept {
  return (word - k_ones * n) & ~word & k_highs;
}

// Nonzero if some octet of `word` equals `value`.
constexpr std::uint64_t any_equal(std::uint64_t word, std::uint64_t value) noexcept {
  const std::uint64_t x = word ^ (k_ones * value);
  return (x - k_ones) & ~x & k_highs;
}

// RFC 9110 §5.5: a field value holds no CTL but HTAB and no DEL. "Special" octets are those
// < 0x20 and DEL: the caller then sees HTAB (allowed), CR (the end) or an error.
constexpr bool is_value_special(unsigned char c) noexcept {
  return c < 0x20 || c == 0x7f;
}

// RFC 9112 §3.2: a request-target is visible ASCII, 0x21-0x7e; SP ends it.
constexpr bool is_target_octet(unsigned char c) noexcept {
  return c > 0x20 && c < 0x7f;
}

// Portable versions: 8 octets per step, then one at a time.
inline std::size_t find_value_special_portable(const char* data, std::size_t from,
                                               std::size_t stop) noexcept {
  std::size_t i = from;
  while (i + 8 <= stop) {
    const std::uint64_t word = load(data + i);
    if ((any_below(word, 0x20) | any_equal(word, 0x7f)) != 0) break;
    i += 8;
  }
  while (i < stop && !is_value_special(static_cast<unsigned char>(data[i])))
    ++i;
  return i;
}

inline std::size_t find_target_end_portable(const char* data, std::size_t from,
                                            std::size_t stop) noexcept {
  std::size_t i = from;
  while (i + 8 <= stop) {
    const std::uint64_t word = load(data + i);
    if ((any_below(word, 0x21) | (word & k_highs) | any_equal(word, 0x7f)) != 0) break;
    i += 8;
  }
  while (i < stop && is_target_octet(static_cast<unsigned char>(data[i])))
    ++i;
  return i;
}

#ifdef MONOCEROS_HTTP_SSE2
// SSE2 versions: unsigned range tests through min/max (SSE2 has no unsigned compare), and the
// position of the first hit from the movemask.
inline std::size_t find_value_special_sse2(const char* data, std::size_t from,
                                           std::size_t stop) noexcept {
  const __m128i below_limit = _mm_set1_epi8(0x1f);
  const __m128i del = _mm_set1_epi8(0x7f);
  std::size_t i = from;
  while (i + 16 <= stop) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + i));
    const __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(v, below_limit), v);  // v <= 0x1f
    const __m128i hit = _mm_or_si128(low, _mm_cmpeq_epi8(v, del));
    const int mask = _mm_movemask_epi8(hit);
    if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    i += 16;
  }
  return find_value_special_portable(data, i, stop);
}

inline std::size_t find_target_end_sse2(const char* data, std::size_t from,
                                        std::size_t stop) noexcept {
  const __m128i space = _mm_set1_epi8(0x20);
  const __m128i del = _mm_set1_epi8(0x7f);
  std::size_t i = from;
  while (i + 16 <= stop) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + i));
    const __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(v, space), v);  // v <= 0x20
    const __m128i high = _mm_cmpeq_epi8(_mm_max_epu8(v, del), v);   // v >= 0x7f
    const int mask = _mm_movemask_epi8(_mm_or_si128(low, high));
    if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    i += 16;
  }
  return find_target_end_portable(data, i, stop);
}
#endif

// The common field-name octets: letters, digits and "-" (all tchar, RFC 9110 §5.6.2). A name
// scan skips these first and checks whatever follows ("_", ".", ...) one octet at a time.
constexpr bool is_plain_name_octet(unsigned char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

#ifdef MONOCEROS_HTTP_SSE2
inline std::size_t skip_plain_name_sse2(const char* data, std::size_t from,
                                        std::size_t stop) noexcept {
  // Letters: fold with 0x20, then 'a'-'z' (no other octet folds into that range). Unsigned
  // ranges as (v - low) <= (high - low) with a wrapping subtraction.
  const __m128i fold = _mm_set1_epi8(0x20);
  const __m128i a = _mm_set1_epi8('a');
  const __m128i letters = _mm_set1_epi8('z' - 'a');
  const __m128i zero = _mm_set1_epi8('0');
  const __m128i digits = _mm_set1_epi8('9' - '0');
  const __m128i dash = _mm_set1_epi8('-');
  std::size_t i = from;
  while (i + 16 <= stop) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + i));
    const __m128i l = _mm_sub_epi8(_mm_or_si128(v, fold), a);
    const __m128i is_letter = _mm_cmpeq_epi8(_mm_min_epu8(l, letters), l);
    const __m128i d = _mm_sub_epi8(v, zero);
    const __m128i is_digit = _mm_cmpeq_epi8(_mm_min_epu8(d, digits), d);
    const __m128i ok = _mm_or_si128(_mm_or_si128(is_letter, is_digit), _mm_cmpeq_epi8(v, dash));
    const int mask = _mm_movemask_epi8(ok) ^ 0xffff;
    if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    i += 16;
  }
  return i;  // the caller's octet loop finishes the last few
}
#endif

// The first offset in [from, stop) whose octet is not a letter, digit or "-" (or an earlier
// offset: the caller goes on octet by octet from there).
inline std::size_t skip_plain_name(const char* data, std::size_t from, std::size_t stop) noexcept {
#ifdef MONOCEROS_HTTP_SSE2
  return skip_plain_name_sse2(data, from, stop);
#else
  (void)data;
  (void)stop;
  return from;
#endif
}

// The first offset in [from, stop) holding an octet < 0x20 or DEL, or stop.
inline std::size_t find_value_special(const char* data, std::size_t from,
                                      std::size_t stop) noexcept {
#ifdef MONOCEROS_HTTP_SSE2
  return find_value_special_sse2(data, from, stop);
#else
  return find_value_special_portable(data, from, stop);
#endif
}

// The first offset in [from, stop) holding an octet outside 0x21-0x7e, or stop.
inline std::size_t find_target_end(const char* data, std::size_t from, std::size_t stop) noexcept {
#ifdef MONOCEROS_HTTP_SSE2
  return find_target_end_sse2(data, from, stop);
#else
  return find_target_end_portable(data, from, stop);
#endif
}

}  // namespace monoceros::http::grammar::wide
