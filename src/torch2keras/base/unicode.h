// Unicode facts the parser needs, exactly as CPython 3.11 (Unicode 14.0.0) has them.
//
// Identifiers (PEP 3131) are checked with XID_Start/XID_Continue after NFKC
// normalisation, "\N{...}" escapes resolve character names, and repr() decides
// between a character and an escape with str.isprintable(). All of it comes from
// tables generated from the interpreter by tools/gen_unicode_tables.py
// (unicode_data.inc, unicode_names.inc), so the engine needs no ICU and cannot
// drift from the Python it imitates.
//
// Strings inside the engine are WTF-8: UTF-8 that may also hold lone surrogates
// (U+D800..U+DFFF as three-byte sequences), because a Python str can, e.g.
// '\ud800'. Source text itself is strict UTF-8.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace t2k::unicode {

inline constexpr char32_t kMaxCodePoint = 0x10FFFF;

// True if `c` may start an identifier: ("%c" % c).isidentifier() in Python 3.11,
// i.e. XID_Start or U+005F '_'. False for anything above U+10FFFF.
bool is_xid_start(char32_t c);

// True if `c` may continue an identifier: XID_Continue, i.e.
// ("a" + chr(c)).isidentifier().
bool is_xid_continue(char32_t c);

// chr(c).isprintable(): false for categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs
// except U+0020 SPACE. Decides what repr() escapes.
bool is_printable(char32_t c);

// unicodedata.normalize('NFKC', s): full compatibility decomposition, canonical
// ordering, canonical composition (with Hangul), for all of Unicode 14.0.0. Lone
// surrogates pass through unchanged.
std::u32string nfkc(std::u32string_view s);

// The character that "\N{name}" denotes in a Python 3.11 string literal, or
// nullopt. Accepts character names and formal name aliases case-insensitively
// ("latin small letter a", "LATIN CAPITAL LETTER GHA", "nbsp"), and the
// algorithmic "CJK UNIFIED IDEOGRAPH-XXXX" (4 or 5 upper-case hex digits) and
// "HANGUL SYLLABLE ..." names, which CPython matches case-sensitively. Named
// sequences ("KEYCAP NUMBER SIGN") are not characters and are rejected, as are
// names with extra spaces.
std::optional<char32_t> lookup_name(std::string_view name);

// Appends `c` in WTF-8: UTF-8, with surrogates encoded like any other code point.
// A value above U+10FFFF (a caller bug) is written as U+FFFD.
void append_utf8(std::string& out, char32_t c);

// Decodes one strict UTF-8 sequence at s[i] (shortest form, no surrogates, at
// most U+10FFFF). On success returns the code point and advances `i` past the
// sequence; on failure (or i >= s.size()) returns nullopt and leaves `i` alone,
// so `i` is the offset of the offending sequence, as in Python's UnicodeDecodeError.start.
std::optional<char32_t> decode_utf8(std::string_view s, std::size_t& i);

// Decodes one WTF-8 sequence at s[i] (surrogates allowed) and advances `i`; for
// iterating the engine's own strings. A malformed byte, which valid WTF-8 never
// has, yields U+FFFD and advances one byte (as does i >= s.size(), a caller bug).
char32_t decode_wtf8(std::string_view s, std::size_t& i);

}  // namespace t2k::unicode
