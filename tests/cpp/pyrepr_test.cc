// Tests of t2k::pyrepr against CPython 3.11's repr() and literal evaluation.
//
// Hand-written cases cover the documented edges; the Golden* tests replay the
// interpreter's answers recorded in tests/data/unicode_golden.txt by
// tools/gen_unicode_tables.py (repr of 20,000 single characters, random strings
// and bytes, floats as bit patterns, float and int literals).
#include "torch2keras/base/pyrepr.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "torch2keras/base/unicode.h"

#include "golden_rows.h"

namespace t2k::pyrepr {
namespace {

using t2k::test_data::golden_rows;

// "41 D800" -> the WTF-8 of those code points.
std::string wtf8_of_hex(const std::string& hex) {
  std::string out;
  std::stringstream in(hex);
  std::string item;
  while (in >> item)
    unicode::append_utf8(out, static_cast<char32_t>(std::stoul(item, nullptr, 16)));
  return out;
}

std::string bytes_of_hex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

double double_of_bits(const std::string& hex) {
  const std::uint64_t bits = std::stoull(hex, nullptr, 16);
  double v;
  std::memcpy(&v, &bits, sizeof v);
  return v;
}

std::uint64_t bits_of(double v) {
  std::uint64_t bits;
  std::memcpy(&bits, &v, sizeof v);
  return bits;
}

std::string str(std::string_view wtf8) {
  std::string out;
  repr_str(out, wtf8);
  return out;
}

std::string bytes(std::string_view b) {
  std::string out;
  repr_bytes(out, b);
  return out;
}

std::string flt(double v) {
  std::string out;
  repr_float(out, v);
  return out;
}

std::string imag(double v) {
  std::string out;
  repr_imaginary(out, v);
  return out;
}

TEST(PyReprTest, StrQuotes) {
  EXPECT_EQ(str(""), "''");
  EXPECT_EQ(str("abc"), "'abc'");
  EXPECT_EQ(str("it's"), "\"it's\"");
  EXPECT_EQ(str("say \"hi\""), "'say \"hi\"'");
  EXPECT_EQ(str("it's \"x\""), "'it\\'s \"x\"'");
  EXPECT_EQ(str("a\\b"), "'a\\\\b'");
}

TEST(PyReprTest, StrEscapes) {
  EXPECT_EQ(str(std::string_view("\t\n\r\x00\x1f\x7f", 6)), "'\\t\\n\\r\\x00\\x1f\\x7f'");
  EXPECT_EQ(str("\xC2\x80\xC2\x9F\xC2\xA0\xC2\xAD\xC3\xBF"), "'\\x80\\x9f\\xa0\\xad\xC3\xBF'");
  EXPECT_EQ(str("\xC4\x80\xCD\xB8\xE2\x80\xA8"), "'\xC4\x80\\u0378\\u2028'");
  EXPECT_EQ(str("\xED\xA0\x80\xED\xBF\xBF"), "'\\ud800\\udfff'");  // lone surrogates
  EXPECT_EQ(str("\xEF\xBB\xBF\xEF\xBF\xBF"), "'\\ufeff\\uffff'");
  EXPECT_EQ(str("\xF0\x90\x80\x80\xF0\x9F\x98\x80"), "'\xF0\x90\x80\x80\xF0\x9F\x98\x80'");
  EXPECT_EQ(str("\xF3\xA0\x80\x81\xF4\x8F\xBF\xBF"), "'\\U000e0001\\U0010ffff'");
  EXPECT_EQ(str("\xC3\xA9\xE2\x82\xAC\xE4\xB8\xAD"), "'\xC3\xA9\xE2\x82\xAC\xE4\xB8\xAD'");
}

TEST(PyReprTest, Bytes) {
  EXPECT_EQ(bytes(""), "b''");
  EXPECT_EQ(bytes("it's"), "b\"it's\"");
  EXPECT_EQ(bytes("say \"hi\""), "b'say \"hi\"'");
  EXPECT_EQ(bytes("it's \"x\""), "b'it\\'s \"x\"'");
  EXPECT_EQ(bytes(std::string_view("\t\n\r\x00\x1f\x7f\x80\xff\\", 9)),
            "b'\\t\\n\\r\\x00\\x1f\\x7f\\x80\\xff\\\\'");
}

TEST(PyReprTest, Float) {
  EXPECT_EQ(flt(0.0), "0.0");
  EXPECT_EQ(flt(-0.0), "-0.0");
  EXPECT_EQ(flt(1.0), "1.0");
  EXPECT_EQ(flt(1.5), "1.5");
  EXPECT_EQ(flt(100.0), "100.0");
  EXPECT_EQ(flt(0.1), "0.1");
  EXPECT_EQ(flt(0.0001), "0.0001");
  EXPECT_EQ(flt(1e-5), "1e-05");
  EXPECT_EQ(flt(1.2345e-5), "1.2345e-05");
  EXPECT_EQ(flt(0.00012345), "0.00012345");
  EXPECT_EQ(flt(1e15), "1000000000000000.0");
  EXPECT_EQ(flt(9999999999999998.0), "9999999999999998.0");
  EXPECT_EQ(flt(1e16), "1e+16");
  EXPECT_EQ(flt(1.5e16), "1.5e+16");
  EXPECT_EQ(flt(1e22), "1e+22");
  EXPECT_EQ(flt(123456789012345678.0), "1.2345678901234568e+17");
  EXPECT_EQ(flt(5e-324), "5e-324");
  EXPECT_EQ(flt(2.2250738585072014e-308), "2.2250738585072014e-308");
  EXPECT_EQ(flt(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(flt(-2.5), "-2.5");
  EXPECT_EQ(flt(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(flt(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(flt(std::numeric_limits<double>::quiet_NaN()), "nan");
  EXPECT_EQ(flt(-std::numeric_limits<double>::quiet_NaN()), "nan");
}

TEST(PyReprTest, Imaginary) {
  EXPECT_EQ(imag(0.0), "0j");
  EXPECT_EQ(imag(-0.0), "-0j");
  EXPECT_EQ(imag(1.0), "1j");
  EXPECT_EQ(imag(1.5), "1.5j");
  EXPECT_EQ(imag(1e15), "1000000000000000j");
  EXPECT_EQ(imag(1e16), "1e+16j");
  EXPECT_EQ(imag(1e-5), "1e-05j");
  EXPECT_EQ(imag(0.0001), "0.0001j");
  EXPECT_EQ(imag(std::numeric_limits<double>::infinity()), "infj");
  EXPECT_EQ(imag(std::numeric_limits<double>::quiet_NaN()), "nanj");
}

TEST(PyReprTest, IntLiteralToDecimal) {
  EXPECT_EQ(int_literal_to_decimal("0"), "0");
  EXPECT_EQ(int_literal_to_decimal("00"), "0");
  EXPECT_EQ(int_literal_to_decimal("0_0"), "0");
  EXPECT_EQ(int_literal_to_decimal("7"), "7");
  EXPECT_EQ(int_literal_to_decimal("1_000_000"), "1000000");
  EXPECT_EQ(int_literal_to_decimal("123456789012345678901234567890"),
            "123456789012345678901234567890");
  EXPECT_EQ(int_literal_to_decimal("0x0"), "0");
  EXPECT_EQ(int_literal_to_decimal("0xff"), "255");
  EXPECT_EQ(int_literal_to_decimal("0XFF"), "255");
  EXPECT_EQ(int_literal_to_decimal("0x_dead_BEEF"), "3735928559");
  EXPECT_EQ(int_literal_to_decimal("0o17"), "15");
  EXPECT_EQ(int_literal_to_decimal("0O777"), "511");
  EXPECT_EQ(int_literal_to_decimal("0b1"), "1");
  EXPECT_EQ(int_literal_to_decimal("0B1010_1010"), "170");
  EXPECT_EQ(int_literal_to_decimal("0xffffffffffffffff"), "18446744073709551615");
  EXPECT_EQ(int_literal_to_decimal("0xffffffffffffffffffffffff"), "79228162514264337593543950335");
  EXPECT_EQ(int_literal_to_decimal("0x1" + std::string(64, '0')),
            "115792089237316195423570985008687907853269984665640564039457584007913129639936");
  EXPECT_EQ(int_literal_to_decimal("0b" + std::string(100, '1')),
            "1267650600228229401496703205375");
}

TEST(PyReprTest, ParseFloatLiteral) {
  EXPECT_EQ(parse_float_literal("1.5"), 1.5);
  EXPECT_EQ(parse_float_literal("1."), 1.0);
  EXPECT_EQ(parse_float_literal(".5"), 0.5);
  EXPECT_EQ(parse_float_literal("1e5"), 100000.0);
  EXPECT_EQ(parse_float_literal("1E+5"), 100000.0);
  EXPECT_EQ(parse_float_literal("1_000.000_5"), 1000.0005);
  EXPECT_EQ(parse_float_literal("1_0e1_0"), 1e11);
  EXPECT_EQ(parse_float_literal("0.1"), 0.1);
  EXPECT_EQ(parse_float_literal("00.0"), 0.0);
  EXPECT_EQ(parse_float_literal("10j"), 10.0);
  EXPECT_EQ(parse_float_literal("1.5J"), 1.5);
  EXPECT_EQ(parse_float_literal("1.7976931348623157e308"), 1.7976931348623157e308);
  EXPECT_EQ(parse_float_literal("1.7976931348623158e308"), 1.7976931348623157e308);
  EXPECT_EQ(parse_float_literal("1.7976931348623159e308"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(parse_float_literal("1e400"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(parse_float_literal("1e99999999999999999999"), std::numeric_limits<double>::infinity());
  EXPECT_EQ(bits_of(parse_float_literal("1e-400")), bits_of(0.0));
  EXPECT_EQ(bits_of(parse_float_literal("2e-324")), bits_of(0.0));
  EXPECT_EQ(parse_float_literal("3e-324"), 5e-324);
  EXPECT_EQ(parse_float_literal("5e-324"), 5e-324);
  EXPECT_EQ(parse_float_literal("0e999999"), 0.0);
  EXPECT_EQ(parse_float_literal("123456789012345678901234567890"), 1.2345678901234568e+29);
  EXPECT_TRUE(std::isnan(parse_float_literal("")));
  EXPECT_TRUE(std::isnan(parse_float_literal("inf")));
  EXPECT_TRUE(std::isnan(parse_float_literal("1e")));
  EXPECT_TRUE(std::isnan(parse_float_literal("0x1p3")));
}

TEST(PyReprTest, GoldenCharacters) {
  const auto rows = golden_rows("cp");
  ASSERT_GE(rows.size(), 20000u);
  int failures = 0;
  for (const auto& row : rows) {
    std::string wtf8;
    unicode::append_utf8(wtf8, static_cast<char32_t>(std::stoul(row[0], nullptr, 16)));
    const bool ok = str(wtf8) == row[2];
    EXPECT_TRUE(ok) << "U+" << row[0] << ": " << str(wtf8) << " expected " << row[2];
    if (!ok && ++failures > 20) FAIL() << "too many failures";
  }
}

TEST(PyReprTest, GoldenStrings) {
  const auto rows = golden_rows("str");
  ASSERT_GE(rows.size(), 1000u);
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 2u);
    EXPECT_EQ(str(wtf8_of_hex(row[0])), row[1]) << row[0];
  }
}

TEST(PyReprTest, GoldenBytes) {
  const auto rows = golden_rows("bytes");
  ASSERT_GE(rows.size(), 500u);
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 2u);
    EXPECT_EQ(bytes(bytes_of_hex(row[0])), row[1]) << row[0];
  }
}

TEST(PyReprTest, GoldenFloats) {
  const auto rows = golden_rows("float");
  ASSERT_GE(rows.size(), 1900u);
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 3u);
    const double v = double_of_bits(row[0]);
    EXPECT_EQ(flt(v), row[1]) << row[0];
    EXPECT_EQ(imag(v), row[2]) << row[0];
  }
}

TEST(PyReprTest, GoldenFloatLiterals) {
  const auto rows = golden_rows("flit");
  ASSERT_GE(rows.size(), 600u);
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 2u);
    EXPECT_EQ(bits_of(parse_float_literal(row[0])), bits_of(double_of_bits(row[1]))) << row[0];
  }
}

TEST(PyReprTest, GoldenIntLiterals) {
  const auto rows = golden_rows("ilit");
  ASSERT_GE(rows.size(), 400u);
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 2u);
    EXPECT_EQ(int_literal_to_decimal(row[0]), row[1]) << row[0];
  }
}

}  // namespace
}  // namespace t2k::pyrepr
