// Tests of t2k::codecs: coding-cookie resolution and strict source decoding.
//
// Expected answers come from CPython 3.11: compile() of a source with the
// cookie decides known/unknown, bytes.decode() the decoded text and
// UnicodeDecodeError.start. The Golden* tests replay such answers for every codec
// name and alias in several spellings, recorded by tools/gen_unicode_tables.py.
#include "torch2keras/base/codecs.h"

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

#include "golden_rows.h"

namespace t2k::codecs {
namespace {

using t2k::test_data::golden_rows;

std::string bytes_of_hex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoul(hex.substr(i, 2), nullptr, 16)));
  }
  return out;
}

// "ok:<utf-8>" or "err:<offset>".
std::string decode(std::string_view codec, std::string_view bytes) {
  std::string out;
  std::size_t offset = 12345;
  if (decode_to_utf8(codec, bytes, out, offset)) return "ok:" + out;
  return "err:" + std::to_string(offset);
}

TEST(CodecsTest, TokenizerNormalName) {
  EXPECT_EQ(tokenizer_normal_name("utf-8"), "utf-8");
  EXPECT_EQ(tokenizer_normal_name("UTF_8"), "utf-8");
  EXPECT_EQ(tokenizer_normal_name("utf-8-sig"), "utf-8");
  EXPECT_EQ(tokenizer_normal_name("utf8"), "utf8");  // not special: with a BOM this is an error
  EXPECT_EQ(tokenizer_normal_name("latin-1"), "iso-8859-1");
  EXPECT_EQ(tokenizer_normal_name("Latin_1"), "iso-8859-1");
  EXPECT_EQ(tokenizer_normal_name("ISO-8859-1"), "iso-8859-1");
  EXPECT_EQ(tokenizer_normal_name("iso-latin-1"), "iso-8859-1");
  EXPECT_EQ(tokenizer_normal_name("iso-latin-1-foo-bar-baz"), "iso-8859-1");
  EXPECT_EQ(tokenizer_normal_name("latin1"), "latin1");
  EXPECT_EQ(tokenizer_normal_name("iso-8859-15"), "iso-8859-15");
  EXPECT_EQ(tokenizer_normal_name("iso-8859-1234"), "iso-8859-1234");
  EXPECT_EQ(tokenizer_normal_name("cp1252"), "cp1252");
}

TEST(CodecsTest, CanonicalCodecName) {
  EXPECT_EQ(canonical_codec_name("utf-8"), "utf_8");
  EXPECT_EQ(canonical_codec_name("utf8"), "utf_8");
  EXPECT_EQ(canonical_codec_name("UTF8"), "utf_8");
  EXPECT_EQ(canonical_codec_name("u8"), "utf_8");
  EXPECT_EQ(canonical_codec_name("cp65001"), "utf_8");
  EXPECT_EQ(canonical_codec_name("utf-8-sig"), "utf_8");  // the tokenizer reads it as utf-8
  EXPECT_EQ(canonical_codec_name("utf--8--sig"), "utf_8_sig");
  EXPECT_EQ(canonical_codec_name("utf8-sig"), std::nullopt);
  EXPECT_EQ(canonical_codec_name("latin-1"), "latin_1");
  EXPECT_EQ(canonical_codec_name("latin1"), "latin_1");
  EXPECT_EQ(canonical_codec_name("iso-8859-1"), "latin_1");
  EXPECT_EQ(canonical_codec_name("Latin-1-foo"), "latin_1");
  EXPECT_EQ(canonical_codec_name("cp1252"), "cp1252");
  EXPECT_EQ(canonical_codec_name("windows-1252"), "cp1252");
  EXPECT_EQ(canonical_codec_name("koi8-r"), "koi8_r");
  EXPECT_EQ(canonical_codec_name("--koi8--r--"), "koi8_r");
  EXPECT_EQ(canonical_codec_name("KOI8.R"), std::nullopt);  // '.' survives normalisation
  EXPECT_EQ(canonical_codec_name("iso-8859-5"), "iso8859_5");
  EXPECT_EQ(canonical_codec_name("iso.8859.5"), "iso8859_5");  // alias found after '.' -> '_'
  EXPECT_EQ(canonical_codec_name("cyrillic"), "iso8859_5");
  EXPECT_EQ(canonical_codec_name("646"), "ascii");
  EXPECT_EQ(canonical_codec_name("us-ascii"), "ascii");
  EXPECT_EQ(canonical_codec_name("euc-jp"), "euc_jp");
  EXPECT_EQ(canonical_codec_name("shift_jis"), "shift_jis");
  EXPECT_EQ(canonical_codec_name("rot13"), "rot_13");
  EXPECT_EQ(canonical_codec_name("hex"), "hex_codec");
  EXPECT_EQ(canonical_codec_name("charmap"), "charmap");
  EXPECT_EQ(canonical_codec_name("mbcs"), std::nullopt);  // Windows only
  EXPECT_EQ(canonical_codec_name("dbcs"), std::nullopt);
  EXPECT_EQ(canonical_codec_name("aliases"), std::nullopt);  // a module, but not a codec
  EXPECT_EQ(canonical_codec_name("tis260"), std::nullopt);
  EXPECT_EQ(canonical_codec_name("no-such-codec"), std::nullopt);
  EXPECT_EQ(canonical_codec_name("..."), std::nullopt);
}

TEST(CodecsTest, Kinds) {
  EXPECT_TRUE(is_supported("utf_8"));
  EXPECT_TRUE(is_supported("utf_8_sig"));
  EXPECT_TRUE(is_supported("ascii"));
  EXPECT_TRUE(is_supported("latin_1"));
  EXPECT_TRUE(is_supported("cp1252"));
  EXPECT_TRUE(is_supported("koi8_r"));
  EXPECT_TRUE(is_supported("iso8859_5"));
  EXPECT_TRUE(is_supported("mac_roman"));
  EXPECT_TRUE(is_supported("cp437"));
  EXPECT_TRUE(is_supported("cp037"));
  EXPECT_FALSE(is_supported("shift_jis"));
  EXPECT_FALSE(is_supported("gbk"));
  EXPECT_FALSE(is_supported("utf_16"));
  EXPECT_FALSE(is_supported("unicode_escape"));
  EXPECT_FALSE(is_supported("rot_13"));
  EXPECT_FALSE(is_supported("latin-1"));  // not a canonical name
  EXPECT_TRUE(is_text_encoding("utf_8"));
  EXPECT_TRUE(is_text_encoding("shift_jis"));
  EXPECT_FALSE(is_text_encoding("rot_13"));
  EXPECT_FALSE(is_text_encoding("hex_codec"));
  EXPECT_FALSE(is_text_encoding("base64_codec"));
  EXPECT_FALSE(is_text_encoding("nonexistent"));
}

TEST(CodecsTest, DecodeSingleByte) {
  EXPECT_EQ(decode("cp1252", "a\x80"), "ok:a\xE2\x82\xAC");
  EXPECT_EQ(decode("cp1252", "\x80\x81"), "err:1");  // 0x81 is undefined in cp1252
  EXPECT_EQ(decode("koi8_r", "\xC1\xC2"), "ok:\xD0\xB0\xD0\xB1");
  EXPECT_EQ(decode("iso8859_5", "\xB0"), "ok:\xD0\x90");
  EXPECT_EQ(decode("iso8859_3", "\xA5"), "err:0");
  EXPECT_EQ(decode("ascii", "ab\x80"), "err:2");
  EXPECT_EQ(decode("latin_1", "\xFF"), "ok:\xC3\xBF");
  EXPECT_EQ(decode("charmap", "\x80"), "ok:\xC2\x80");
  EXPECT_EQ(decode("cp037", "\xC1\x40"), "ok:A ");  // EBCDIC
  EXPECT_EQ(decode("mac_roman", "\xA5"), "ok:\xE2\x80\xA2");
  EXPECT_EQ(decode("cp437", "\xDB"), "ok:\xE2\x96\x88");
  EXPECT_EQ(decode("cp1252", ""), "ok:");
}

TEST(CodecsTest, DecodeUtf8) {
  EXPECT_EQ(decode("utf_8", "x = '\xC3\xA9'\n"), "ok:x = '\xC3\xA9'\n");
  EXPECT_EQ(decode("utf_8", "ab\xED\xA0\x80"), "err:2");  // surrogates are not UTF-8
  EXPECT_EQ(decode("utf_8", "ab\xE2\x82"), "err:2");
  EXPECT_EQ(decode("utf_8", "\xEF\xBB\xBF"), "ok:\xEF\xBB\xBF");
  const std::string bom = "\xEF\xBB\xBF";
  EXPECT_EQ(decode("utf_8_sig", bom + "a"), "ok:a");
  EXPECT_EQ(decode("utf_8_sig", bom + bom + "a"), "ok:" + bom + "a");
  EXPECT_EQ(decode("utf_8_sig", bom + "a\xFF"), "err:4");  // offsets count the BOM
}

TEST(CodecsTest, DecodeUnsupported) {
  EXPECT_EQ(decode("shift_jis", "abc"), "err:0");
  EXPECT_EQ(decode("rot_13", "abc"), "err:0");
  EXPECT_EQ(decode("nonexistent", "abc"), "err:0");
}

TEST(CodecsTest, GoldenCodecNames) {
  const auto rows = golden_rows("codec");
  ASSERT_GE(rows.size(), 900u);
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 2u);
    const std::optional<std::string> expected =
        row[1] == "-" ? std::nullopt : std::optional(row[1]);
    EXPECT_EQ(canonical_codec_name(row[0]), expected) << row[0];
  }
}

TEST(CodecsTest, GoldenDecoding) {
  const auto rows = golden_rows("decode");
  ASSERT_GE(rows.size(), 500u);
  for (const auto& row : rows) {
    ASSERT_EQ(row.size(), 4u);
    const std::string expected = row[2] == "ok" ? "ok:" + bytes_of_hex(row[3]) : "err:" + row[3];
    EXPECT_EQ(decode(row[0], bytes_of_hex(row[1])), expected) << row[0] << " " << row[1];
  }
}

}  // namespace
}  // namespace t2k::codecs
