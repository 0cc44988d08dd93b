// repr() of str, bytes, float and imaginary constants, and numeric literal
// conversion, matching CPython 3.11.
//
// The rules are CPython's observable behaviour (checked by the golden sample in
// tests/data/unicode_golden.txt, generated from the interpreter): unicode_repr's
// quote choice and escapes, and float_repr's 'r' format — shortest round-trip
// digits, positional notation for decimal exponents -4..15, at least two exponent
// digits. Shortest digits come from std::to_chars, which, like CPython's dtoa
// mode 0, yields the shortest string that reads back to the same double (closest
// to the exact value when several are that short).
#include "torch2keras/base/pyrepr.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <system_error>
#include <vector>

#include "torch2keras/base/unicode.h"

namespace t2k::pyrepr {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

void append_hex(std::string& out, std::uint32_t value, int digits) {
  for (int shift = (digits - 1) * 4; shift >= 0; shift -= 4)
    out.push_back(kHexDigits[(value >> shift) & 0xF]);
}

// ' unless the text has ' and no " (CPython's unicode_repr and bytes_repr).
template <class Range>
char choose_quote(const Range& units) {
  bool single = false;
  bool dbl = false;
  for (const auto u : units) {
    single = single || u == U'\'';
    dbl = dbl || u == U'"';
  }
  return single && !dbl ? '"' : '\'';
}

// Shortest round-trip digits of a finite, non-zero-or-zero double: `digits`
// without the point, and the exponent of the first digit (v = d.ddd * 10**exp10).
struct ShortestDigits {
  bool negative = false;
  std::string digits;
  int exp10 = 0;
};

ShortestDigits shortest_digits(double v) {
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  ShortestDigits d;
  const char* p = buf;
  if (*p == '-') {
    d.negative = true;
    ++p;
  }
  for (; p != result.ptr && *p != 'e'; ++p) {
    if (*p != '.') d.digits.push_back(*p);
  }
  // p is at 'e'; the exponent is "+NN" or "-NNN".
  ++p;
  const bool negative_exp = *p == '-';
  ++p;
  int exp = 0;
  for (; p != result.ptr; ++p) exp = exp * 10 + (*p - '0');
  d.exp10 = negative_exp ? -exp : exp;
  return d;
}

// PyOS_double_to_string(v, 'r', 0, flags) for finite v.
void append_float(std::string& out, double v, bool add_dot_0) {
  const ShortestDigits d = shortest_digits(v);
  if (d.negative) out.push_back('-');
  const int ndigits = static_cast<int>(d.digits.size());
  if (d.exp10 < -4 || d.exp10 >= 16) {
    out.push_back(d.digits[0]);
    if (ndigits > 1) {
      out.push_back('.');
      out.append(d.digits, 1);
    }
    out.push_back('e');
    out.push_back(d.exp10 < 0 ? '-' : '+');
    const int magnitude = d.exp10 < 0 ? -d.exp10 : d.exp10;
    if (magnitude < 10) out.push_back('0');
    out.append(std::to_string(magnitude));
    return;
  }
  const int point = d.exp10 + 1;  // digits before the decimal point
  if (point <= 0) {
    out.append("0.");
    out.append(static_cast<std::size_t>(-point), '0');
    out.append(d.digits);
  } else if (point >= ndigits) {
    out.append(d.digits);
    out.append(static_cast<std::size_t>(point - ndigits), '0');
    if (add_dot_0) out.append(".0");
  } else {
    out.append(d.digits, 0, static_cast<std::size_t>(point));
    out.push_back('.');
    out.append(d.digits, static_cast<std::size_t>(point));
  }
}

bool append_special(std::string& out, double v) {
  if (std::isnan(v)) {
    out.append("nan");  // CPython prints every NaN, whatever its sign, as nan
    return true;
  }
  if (std::isinf(v)) {
    out.append(v < 0 ? "-inf" : "inf");
    return true;
  }
  return false;
}

int digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return 99;
}

// The escapes str and bytes reprs share: the quote and backslash, \t \n \r.
// Returns false when `c` needs none of them.
bool append_ascii_escape(std::string& out, char32_t c, char quote) {
  switch (c) {
    case U'\t': out.append("\\t"); return true;
    case U'\n': out.append("\\n"); return true;
    case U'\r': out.append("\\r"); return true;
    default: break;
  }
  if (c != static_cast<char32_t>(quote) && c != U'\\') return false;
  out.push_back('\\');
  out.push_back(static_cast<char>(c));
  return true;
}

}  // namespace

void repr_str(std::string& out, std::string_view wtf8) {
  std::u32string text;
  text.reserve(wtf8.size());
  for (std::size_t i = 0; i < wtf8.size();) text.push_back(unicode::decode_wtf8(wtf8, i));
  const char quote = choose_quote(text);
  out.push_back(quote);
  for (const char32_t c : text) {
    if (append_ascii_escape(out, c, quote)) continue;
    if (c < 0x20 || c == 0x7F) {
      out.append("\\x");
      append_hex(out, c, 2);
    } else if (c < 0x7F || unicode::is_printable(c)) {
      unicode::append_utf8(out, c);
    } else if (c <= 0xFF) {
      out.append("\\x");
      append_hex(out, c, 2);
    } else if (c <= 0xFFFF) {
      out.append("\\u");
      append_hex(out, c, 4);
    } else {
      out.append("\\U");
      append_hex(out, c, 8);
    }
  }
  out.push_back(quote);
}

void repr_bytes(std::string& out, std::string_view bytes) {
  std::u32string units;
  units.reserve(bytes.size());
  for (const char b : bytes) units.push_back(static_cast<unsigned char>(b));
  const char quote = choose_quote(units);
  out.push_back('b');
  out.push_back(quote);
  for (const char32_t c : units) {
    if (append_ascii_escape(out, c, quote)) continue;
    if (c < 0x20 || c >= 0x7F) {
      out.append("\\x");
      append_hex(out, c, 2);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  out.push_back(quote);
}

void repr_float(std::string& out, double v) {
  if (!append_special(out, v)) append_float(out, v, /*add_dot_0=*/true);
}

void repr_imaginary(std::string& out, double imag) {
  if (!append_special(out, imag)) append_float(out, imag, /*add_dot_0=*/false);
  out.push_back('j');
}

std::string int_literal_to_decimal(std::string_view literal) {
  unsigned base = 10;
  if (literal.size() >= 2 && literal[0] == '0') {
    const char p = literal[1];
    if (p == 'x' || p == 'X') base = 16;
    if (p == 'o' || p == 'O') base = 8;
    if (p == 'b' || p == 'B') base = 2;
    if (base != 10) literal.remove_prefix(2);
  }
  std::string digits;
  for (const char c : literal) {
    if (static_cast<unsigned>(digit_value(c)) < base) digits.push_back(c);
  }
  if (base == 10) {
    // Already decimal: only leading zeros go.
    const std::size_t first = digits.find_first_not_of('0');
    return first == std::string::npos ? "0" : digits.substr(first);
  }
  // Little-endian limbs of 10**9. Digits are consumed a chunk at a time (up to
  // 2**30 per multiply), so a limb times the multiplier plus carry fits in 64 bits.
  constexpr std::uint64_t kLimb = 1000000000;
  const unsigned bits = base == 16 ? 4 : base == 8 ? 3 : 1;
  const std::size_t per_chunk = 30 / bits;
  std::vector<std::uint32_t> limbs;
  for (std::size_t start = 0; start < digits.size(); start += per_chunk) {
    const std::size_t n = std::min(per_chunk, digits.size() - start);
    std::uint64_t chunk = 0;
    for (std::size_t k = 0; k < n; ++k)
      chunk = chunk << bits | static_cast<unsigned>(digit_value(digits[start + k]));
    const std::uint64_t multiplier = std::uint64_t{1} << (bits * n);
    std::uint64_t carry = chunk;
    for (std::uint32_t& limb : limbs) {
      const std::uint64_t value = limb * multiplier + carry;
      limb = static_cast<std::uint32_t>(value % kLimb);
      carry = value / kLimb;
    }
    while (carry != 0) {
      limbs.push_back(static_cast<std::uint32_t>(carry % kLimb));
      carry /= kLimb;
    }
  }
  if (limbs.empty()) return "0";
  std::string out = std::to_string(limbs.back());
  for (std::size_t i = limbs.size() - 1; i-- > 0;) {
    const std::string part = std::to_string(limbs[i]);
    out.append(9 - part.size(), '0');
    out.append(part);
  }
  return out;
}

double parse_float_literal(std::string_view literal) {
  if (!literal.empty() && (literal.back() == 'j' || literal.back() == 'J'))
    literal.remove_suffix(1);
  std::string text;
  text.reserve(literal.size());
  for (const char c : literal) {
    if (c != '_') text.push_back(c);
  }
  // from_chars would also take "inf", "nan" and hex; a literal has none of them.
  if (text.empty() || !((text[0] >= '0' && text[0] <= '9') || text[0] == '.') ||
      text.find_first_of("xXpPnN") != std::string::npos) {
    return std::numeric_limits<double>::quiet_NaN();
  }
  double value = 0.0;
  const char* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, value, std::chars_format::general);
  if (result.ptr != end) return std::numeric_limits<double>::quiet_NaN();
  if (result.ec == std::errc::result_out_of_range) {
    // The value is left unset; tell overflow (inf) from underflow (0.0) by the
    // decimal magnitude, which is far from 0 on either side.
    const std::size_t e = text.find_first_of("eE");
    const std::string_view mantissa = std::string_view(text).substr(0, e);
    long long magnitude = 0;
    const std::size_t point = mantissa.find('.');
    const std::size_t int_end = point == std::string_view::npos ? mantissa.size() : point;
    const std::size_t first_nonzero = mantissa.find_first_not_of("0.");
    if (first_nonzero == std::string_view::npos) return 0.0;
    magnitude = first_nonzero < int_end ? static_cast<long long>(int_end - first_nonzero)
                                        : -static_cast<long long>(first_nonzero - int_end - 1);
    if (e != std::string::npos) {
      std::size_t k = e + 1;
      bool negative = false;
      if (k < text.size() && (text[k] == '+' || text[k] == '-')) negative = text[k++] == '-';
      long long exponent = 0;
      for (; k < text.size() && exponent < 1000000000; ++k)
        exponent = exponent * 10 + (text[k] - '0');
      magnitude += negative ? -exponent : exponent;
    }
    return magnitude > 0 ? std::numeric_limits<double>::infinity() : 0.0;
  }
  if (result.ec != std::errc()) return std::numeric_limits<double>::quiet_NaN();
  return value;
}

}  // namespace t2k::pyrepr
