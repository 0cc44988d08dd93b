// Tests of t2k::unicode: identifier and printable classes, NFKC, "\N{...}"
// names and UTF-8/WTF-8 coding.
//
// Expected values were read from CPython 3.11.7 (Unicode 14.0.0). The Golden*
// tests replay tests/data/unicode_golden.txt, a random sample of interpreter
// answers written by tools/gen_unicode_tables.py, so a table or algorithm that
// drifts from CPython fails here even where no hand-written case looks.
#include "torch2keras/base/unicode.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "golden_rows.h"

namespace t2k::unicode {
namespace {

using t2k::test_data::golden_rows;

// "41 300" -> U"A\u0300"; "=" -> nothing.
std::u32string parse_code_points(const std::string& hex) {
  std::u32string out;
  std::stringstream in(hex);
  std::string item;
  while (in >> item) {
    if (item != "=") out.push_back(static_cast<char32_t>(std::stoul(item, nullptr, 16)));
  }
  return out;
}

std::string utf8(std::u32string_view s) {
  std::string out;
  for (const char32_t c : s) append_utf8(out, c);
  return out;
}

TEST(UnicodeTest, IdentifierClasses) {
  EXPECT_TRUE(is_xid_start(U'a'));
  EXPECT_TRUE(is_xid_start(U'Z'));
  EXPECT_TRUE(is_xid_start(U'_'));  // not XID_Start, but str.isidentifier() allows it first
  EXPECT_FALSE(is_xid_start(U'1'));
  EXPECT_TRUE(is_xid_continue(U'1'));
  EXPECT_FALSE(is_xid_start(U'$'));
  EXPECT_FALSE(is_xid_continue(U'$'));
  EXPECT_FALSE(is_xid_start(0xB7));  // MIDDLE DOT: Other_ID_Continue
  EXPECT_TRUE(is_xid_continue(0xB7));
  EXPECT_TRUE(is_xid_start(0x2118));   // SCRIPT CAPITAL P: Other_ID_Start
  EXPECT_TRUE(is_xid_start(0x212E));   // ESTIMATED SYMBOL
  EXPECT_FALSE(is_xid_start(0x309B));  // ID_Start but not XID_Start (NFKC is a space + mark)
  EXPECT_FALSE(is_xid_continue(0x309B));
  EXPECT_FALSE(is_xid_start(0x0E33));  // THAI SARA AM
  EXPECT_TRUE(is_xid_continue(0x0E33));
  EXPECT_FALSE(is_xid_start(0x0387));  // GREEK ANO TELEIA
  EXPECT_TRUE(is_xid_continue(0x0387));
  EXPECT_TRUE(is_xid_start(0xAA));
  EXPECT_TRUE(is_xid_start(0x4E00));
  EXPECT_TRUE(is_xid_start(0xAC00));
  EXPECT_FALSE(is_xid_continue(0x200C));  // ZWNJ is not XID_Continue in Python
  EXPECT_FALSE(is_xid_start(0x1F600));
  EXPECT_FALSE(is_xid_continue(0xD800));
  EXPECT_FALSE(is_xid_start(0x110000));
  EXPECT_FALSE(is_xid_continue(0xFFFFFFFF));
}

TEST(UnicodeTest, Printable) {
  EXPECT_TRUE(is_printable(U' '));
  EXPECT_TRUE(is_printable(U'~'));
  EXPECT_FALSE(is_printable(0x7F));
  EXPECT_FALSE(is_printable(U'\n'));
  EXPECT_FALSE(is_printable(0xA0));  // NO-BREAK SPACE: Zs other than U+0020
  EXPECT_FALSE(is_printable(0xAD));  // SOFT HYPHEN: Cf
  EXPECT_TRUE(is_printable(0xE9));
  EXPECT_TRUE(is_printable(0xFF));
  EXPECT_FALSE(is_printable(0x378));  // unassigned
  EXPECT_FALSE(is_printable(0x2028));
  EXPECT_FALSE(is_printable(0x3000));
  EXPECT_FALSE(is_printable(0xD800));
  EXPECT_FALSE(is_printable(0xDFFF));
  EXPECT_FALSE(is_printable(0xE000));  // private use
  EXPECT_FALSE(is_printable(0xFEFF));
  EXPECT_FALSE(is_printable(0xFFFF));
  EXPECT_TRUE(is_printable(0x10000));
  EXPECT_TRUE(is_printable(0x1F600));
  EXPECT_FALSE(is_printable(0xE0001));
  EXPECT_FALSE(is_printable(0x10FFFF));
  EXPECT_FALSE(is_printable(0x110000));
}

TEST(UnicodeTest, Nfkc) {
  EXPECT_EQ(nfkc(U""), U"");
  EXPECT_EQ(nfkc(U"plain_ascii"), U"plain_ascii");
  EXPECT_EQ(nfkc(U"\uFB01"), U"fi");
  EXPECT_EQ(nfkc(U"\U0001D518\U0001D52B\U0001D526\U0001D520\U0001D52C\U0001D521\U0001D522"),
            U"Unicode");
  EXPECT_EQ(nfkc(U"e\u0301"), U"\u00E9");
  EXPECT_EQ(nfkc(U"\u00A0"), U" ");
  EXPECT_EQ(nfkc(U"\u2460"), U"1");
  EXPECT_EQ(nfkc(U"\u00BD"), U"1\u20442");
  EXPECT_EQ(nfkc(U"\u2126\u212B"), U"\u03A9\u00C5");  // singletons
  EXPECT_EQ(nfkc(U"\u3339\u337F"), U"\u30D8\u30EB\u30C4\u682A\u5F0F\u4F1A\u793E");
  EXPECT_EQ(nfkc(U"\uFDFA"),
            U"\u0635\u0644\u0649 \u0627\u0644\u0644\u0647 \u0639\u0644\u064A\u0647 "
            U"\u0648\u0633\u0644\u0645");
  EXPECT_EQ(nfkc(U"\u0344"), U"\u0308\u0301");  // non-starter decomposition: never recomposed
  EXPECT_EQ(nfkc(U"\u0958"), U"\u0915\u093C");  // composition exclusion
  EXPECT_EQ(nfkc(U"\u00C5\u0301"), U"\u01FA");
  EXPECT_EQ(nfkc(U"\u1E9B\u0323"), U"\u1E69");
}

TEST(UnicodeTest, NfkcCanonicalOrderingAndBlocking) {
  EXPECT_EQ(nfkc(U"q\u0307\u0323"), U"q\u0323\u0307");
  EXPECT_EQ(nfkc(U"\u1E0B\u0323"), U"\u1E0D\u0307");
  EXPECT_EQ(nfkc(U"x\u0345\u0301"), U"x\u0301\u0345");
  EXPECT_EQ(nfkc(U"a\u0301\u0327"), U"\u00E1\u0327");
  EXPECT_EQ(nfkc(U"A\u0300\u0300"), U"\u00C0\u0300");  // the second grave is blocked
  EXPECT_EQ(nfkc(U"\u0B47\u0B3E"), U"\u0B4B");         // two starters compose when adjacent
  EXPECT_EQ(nfkc(U"\u0B47\u0300\u0B3E"), U"\u0B47\u0300\u0B3E");
}

TEST(UnicodeTest, NfkcHangul) {
  EXPECT_EQ(nfkc(U"\u1100\u1161"), U"\uAC00");
  EXPECT_EQ(nfkc(U"\u1100\u1161\u11A8"), U"\uAC01");
  EXPECT_EQ(nfkc(U"\uAC00\u11A8"), U"\uAC01");
  EXPECT_EQ(nfkc(U"\uAC01"), U"\uAC01");
  EXPECT_EQ(nfkc(U"\u1100\u0300\u1161"), U"\u1100\u0300\u1161");
  EXPECT_EQ(nfkc(U"\u3131"), U"\u1100");  // HANGUL LETTER KIYEOK (compatibility jamo)
  EXPECT_EQ(nfkc(U"\uD7A3"), U"\uD7A3");
}

TEST(UnicodeTest, NfkcKeepsLoneSurrogates) {
  const std::u32string in = {0xD800, U'a', 0x301, 0xDFFF};
  const std::u32string expected = {0xD800, 0xE1, 0xDFFF};
  EXPECT_EQ(nfkc(in), expected);
}

TEST(UnicodeTest, LookupName) {
  EXPECT_EQ(lookup_name("LATIN SMALL LETTER A"), U'a');
  EXPECT_EQ(lookup_name("latin small letter a"), U'a');
  EXPECT_EQ(lookup_name("Latin Small Letter A"), U'a');
  EXPECT_EQ(lookup_name("SPACE"), U' ');
  EXPECT_EQ(lookup_name("NO-BREAK SPACE"), 0xA0u);
  EXPECT_EQ(lookup_name("EURO SIGN"), 0x20ACu);
  EXPECT_EQ(lookup_name("GRINNING FACE"), 0x1F600u);
  EXPECT_EQ(lookup_name("HYPHEN-MINUS"), U'-');
  EXPECT_EQ(lookup_name("TIBETAN MARK BSKA- SHOG GI MGO RGYAN"), 0xFD0u);
  EXPECT_EQ(lookup_name("VARIATION SELECTOR-256"), 0xE01EFu);
  EXPECT_EQ(lookup_name("MODIFIER LETTER EXTRA-HIGH EXTRA-LOW CONTOUR TONE BAR"), std::nullopt);
  EXPECT_EQ(lookup_name(""), std::nullopt);
  EXPECT_EQ(lookup_name("NOT A CHARACTER NAME"), std::nullopt);
  EXPECT_EQ(lookup_name(" LATIN SMALL LETTER A"), std::nullopt);
  EXPECT_EQ(lookup_name("LATIN SMALL LETTER A "), std::nullopt);
  EXPECT_EQ(lookup_name("LATIN  SMALL LETTER A"), std::nullopt);
  EXPECT_EQ(lookup_name(std::string_view("LATIN SMALL LETTER A\0", 21)), std::nullopt);
  EXPECT_EQ(lookup_name("latin small letter \xC4\xB0"), std::nullopt);
}

TEST(UnicodeTest, LookupNameAliases) {
  EXPECT_EQ(lookup_name("LATIN CAPITAL LETTER GHA"), 0x1A2u);  // correction
  EXPECT_EQ(lookup_name("LATIN CAPITAL LETTER OI"), 0x1A2u);   // the name itself
  EXPECT_EQ(lookup_name("NULL"), 0u);
  EXPECT_EQ(lookup_name("nul"), 0u);
  EXPECT_EQ(lookup_name("LINE FEED"), U'\n');
  EXPECT_EQ(lookup_name("EOL"), U'\n');
  EXPECT_EQ(lookup_name("NBSP"), 0xA0u);
  EXPECT_EQ(lookup_name("ZWJ"), 0x200Du);
  EXPECT_EQ(lookup_name("BOM"), 0xFEFFu);
  EXPECT_EQ(lookup_name("BYTE ORDER MARK"), 0xFEFFu);
  EXPECT_EQ(lookup_name("ZWNBSP"), 0xFEFFu);
  EXPECT_EQ(lookup_name("vs256"), 0xE01EFu);
  EXPECT_EQ(lookup_name("VS257"), std::nullopt);
  EXPECT_EQ(lookup_name("SINGLE-SHIFT-2"), 0x8Eu);
  EXPECT_EQ(lookup_name("HENTAIGANA LETTER E-1"), 0x1B001u);
  EXPECT_EQ(lookup_name("TIBETAN MARK BKA- SHOG GI MGO RGYAN"), 0xFD0u);
  // Added after Unicode 14, so Python 3.11 does not know them.
  EXPECT_EQ(lookup_name("ARABIC SMALL HIGH LIGATURE ALEF WITH YEH BARREE"), std::nullopt);
  EXPECT_EQ(lookup_name("LINE FEED (LF)"), std::nullopt);
}

TEST(UnicodeTest, LookupNameRejectsNamedSequences) {
  // unicodedata.lookup accepts these; "\N{...}" does not.
  EXPECT_EQ(lookup_name("KEYCAP NUMBER SIGN"), std::nullopt);
  EXPECT_EQ(lookup_name("LATIN CAPITAL LETTER A WITH MACRON AND GRAVE"), std::nullopt);
}

TEST(UnicodeTest, LookupNameAlgorithmic) {
  EXPECT_EQ(lookup_name("CJK UNIFIED IDEOGRAPH-4E00"), 0x4E00u);
  EXPECT_EQ(lookup_name("CJK UNIFIED IDEOGRAPH-04E00"), 0x4E00u);
  EXPECT_EQ(lookup_name("CJK UNIFIED IDEOGRAPH-3400"), 0x3400u);
  EXPECT_EQ(lookup_name("CJK UNIFIED IDEOGRAPH-2A6DF"), 0x2A6DFu);
  EXPECT_EQ(lookup_name("CJK UNIFIED IDEOGRAPH-3134A"), 0x3134Au);
  EXPECT_EQ(lookup_name("CJK UNIFIED IDEOGRAPH-2A6E0"), std::nullopt);
  EXPECT_EQ(lookup_name("CJK UNIFIED IDEOGRAPH-4DC0"), std::nullopt);
  EXPECT_EQ(lookup_name("CJK UNIFIED IDEOGRAPH-004E00"), std::nullopt);
  EXPECT_EQ(lookup_name("CJK UNIFIED IDEOGRAPH-4E0"), std::nullopt);
  EXPECT_EQ(lookup_name("CJK UNIFIED IDEOGRAPH-"), std::nullopt);
  // CPython compares the algorithmic names case-sensitively.
  EXPECT_EQ(lookup_name("CJK UNIFIED IDEOGRAPH-4e00"), std::nullopt);
  EXPECT_EQ(lookup_name("cjk unified ideograph-4E00"), std::nullopt);
  EXPECT_EQ(lookup_name("HANGUL SYLLABLE GA"), 0xAC00u);
  EXPECT_EQ(lookup_name("HANGUL SYLLABLE GAG"), 0xAC01u);
  EXPECT_EQ(lookup_name("HANGUL SYLLABLE A"), 0xC544u);
  EXPECT_EQ(lookup_name("HANGUL SYLLABLE HIH"), 0xD7A3u);
  EXPECT_EQ(lookup_name("HANGUL SYLLABLE GGWEOSS"), 0xAFE8u);
  EXPECT_EQ(lookup_name("HANGUL SYLLABLE ga"), std::nullopt);
  EXPECT_EQ(lookup_name("hangul syllable GA"), std::nullopt);
  EXPECT_EQ(lookup_name("HANGUL SYLLABLE "), std::nullopt);
  EXPECT_EQ(lookup_name("HANGUL SYLLABLE  GA"), std::nullopt);
  // Tangut ideographs have no names in Python 3.11.
  EXPECT_EQ(lookup_name("TANGUT IDEOGRAPH-17000"), std::nullopt);
  EXPECT_EQ(lookup_name("TANGUT COMPONENT-001"), 0x18800u);
}

TEST(UnicodeTest, LookupNameHexFamilies) {
  // Stored in CPython's name database, so case-insensitive, hex digits included.
  EXPECT_EQ(lookup_name("CJK COMPATIBILITY IDEOGRAPH-F900"), 0xF900u);
  EXPECT_EQ(lookup_name("cjk compatibility ideograph-f900"), 0xF900u);
  EXPECT_EQ(lookup_name("CJK COMPATIBILITY IDEOGRAPH-2FA1D"), 0x2FA1Du);
  EXPECT_EQ(lookup_name("CJK COMPATIBILITY IDEOGRAPH-0F900"), std::nullopt);
  EXPECT_EQ(lookup_name("CJK COMPATIBILITY IDEOGRAPH-FA6E"), std::nullopt);
  EXPECT_EQ(lookup_name("KHITAN SMALL SCRIPT CHARACTER-18B00"), 0x18B00u);
  EXPECT_EQ(lookup_name("khitan small script character-18b00"), 0x18B00u);
  EXPECT_EQ(lookup_name("NUSHU CHARACTER-1B170"), 0x1B170u);
  EXPECT_EQ(lookup_name("NUSHU CHARACTER-1B2FC"), std::nullopt);
}

TEST(UnicodeTest, AppendUtf8) {
  EXPECT_EQ(utf8(U"A"), "A");
  EXPECT_EQ(utf8(U"\u007F"), "\x7F");
  EXPECT_EQ(utf8(U"\u0080"), "\xC2\x80");
  EXPECT_EQ(utf8(U"\u07FF"), "\xDF\xBF");
  EXPECT_EQ(utf8(U"\u0800"), "\xE0\xA0\x80");
  EXPECT_EQ(utf8(U"\uFFFF"), "\xEF\xBF\xBF");
  EXPECT_EQ(utf8(U"\U00010000"), "\xF0\x90\x80\x80");
  EXPECT_EQ(utf8(U"\U0010FFFF"), "\xF4\x8F\xBF\xBF");
  std::string out;
  append_utf8(out, 0xD800);  // WTF-8
  append_utf8(out, 0xDFFF);
  EXPECT_EQ(out, "\xED\xA0\x80\xED\xBF\xBF");
  out.clear();
  append_utf8(out, 0x110000);
  EXPECT_EQ(out, "\xEF\xBF\xBD");
}

TEST(UnicodeTest, DecodeUtf8Strict) {
  const std::string text = "a\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80";
  std::size_t i = 0;
  EXPECT_EQ(decode_utf8(text, i), U'a');
  EXPECT_EQ(decode_utf8(text, i), 0xE9u);
  EXPECT_EQ(decode_utf8(text, i), 0x20ACu);
  EXPECT_EQ(decode_utf8(text, i), 0x1F600u);
  EXPECT_EQ(i, text.size());
  EXPECT_EQ(decode_utf8(text, i), std::nullopt);

  for (const std::string_view bad : {
           std::string_view("\x80"),              // lone continuation
           std::string_view("\xC0\x80"),          // overlong NUL
           std::string_view("\xC1\xBF"),          // overlong
           std::string_view("\xE0\x80\x80"),      // overlong
           std::string_view("\xE0\x9F\xBF"),      // overlong
           std::string_view("\xED\xA0\x80"),      // surrogate U+D800
           std::string_view("\xED\xBF\xBF"),      // surrogate U+DFFF
           std::string_view("\xF0\x8F\xBF\xBF"),  // overlong
           std::string_view("\xF4\x90\x80\x80"),  // above U+10FFFF
           std::string_view("\xF5\x80\x80\x80"),
           std::string_view("\xFF"),
           std::string_view("\xE2\x82"),      // truncated
           std::string_view("\xE2\x82\x41"),  // bad continuation
           std::string_view("\xF0\x9F\x98"),
       }) {
    std::size_t j = 0;
    EXPECT_EQ(decode_utf8(bad, j), std::nullopt) << testing::PrintToString(std::string(bad));
    EXPECT_EQ(j, 0u);
  }
  std::size_t j = 0;
  EXPECT_EQ(decode_utf8("\xEE\x80\x80", j), 0xE000u);
  j = 0;
  EXPECT_EQ(decode_utf8("\xED\x9F\xBF", j), 0xD7FFu);
}

TEST(UnicodeTest, DecodeWtf8) {
  const std::string text = "\xED\xA0\x80x\xED\xBF\xBF\xF4\x8F\xBF\xBF";
  std::size_t i = 0;
  EXPECT_EQ(decode_wtf8(text, i), 0xD800u);
  EXPECT_EQ(decode_wtf8(text, i), U'x');
  EXPECT_EQ(decode_wtf8(text, i), 0xDFFFu);
  EXPECT_EQ(decode_wtf8(text, i), 0x10FFFFu);
  EXPECT_EQ(i, text.size());
  i = 0;
  EXPECT_EQ(decode_wtf8("\xC0\x80", i), 0xFFFDu);  // malformed: one byte at a time
  EXPECT_EQ(i, 1u);
}

TEST(UnicodeTest, Utf8RoundTripEveryCodePoint) {
  for (char32_t c = 0; c <= kMaxCodePoint; ++c) {
    std::string bytes;
    append_utf8(bytes, c);
    std::size_t i = 0;
    ASSERT_EQ(decode_wtf8(bytes, i), c);
    ASSERT_EQ(i, bytes.size());
    i = 0;
    const auto strict = decode_utf8(bytes, i);
    if (c >= 0xD800 && c <= 0xDFFF) {
      ASSERT_EQ(strict, std::nullopt);
    } else {
      ASSERT_EQ(strict, c);
    }
  }
}

TEST(UnicodeTest, GoldenCodePoints) {
  const auto rows = golden_rows("cp");
  ASSERT_GE(rows.size(), 20000u);
  int failures = 0;
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 4u);
    const char32_t c = static_cast<char32_t>(std::stoul(row[0], nullptr, 16));
    const std::string flags = {is_xid_start(c) ? '1' : '0', is_xid_continue(c) ? '1' : '0',
                               is_printable(c) ? '1' : '0'};
    const std::u32string expected_nfkc =
        row[3] == "=" ? std::u32string(1, c) : parse_code_points(row[3]);
    const bool ok = flags == row[1] && nfkc(std::u32string(1, c)) == expected_nfkc;
    EXPECT_TRUE(ok) << "U+" << row[0] << " flags " << flags << " expected " << row[1];
    if (!ok && ++failures > 20) FAIL() << "too many failures";
  }
}

TEST(UnicodeTest, GoldenNfkc) {
  const auto rows = golden_rows("nfkc");
  ASSERT_GE(rows.size(), 2000u);
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 2u);
    EXPECT_EQ(utf8(nfkc(parse_code_points(row[0]))), utf8(parse_code_points(row[1]))) << row[0];
  }
}

TEST(UnicodeTest, GoldenNames) {
  const auto rows = golden_rows("name");
  ASSERT_GE(rows.size(), 2000u);
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 2u);
    const std::optional<char32_t> expected =
        row[1] == "-" ? std::nullopt : std::optional<char32_t>(std::stoul(row[1], nullptr, 16));
    EXPECT_EQ(lookup_name(row[0]), expected) << '"' << row[0] << '"';
  }
}

}  // namespace
}  // namespace t2k::unicode
