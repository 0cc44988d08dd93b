// Source decoding for PEP 263 coding cookies ("# -*- coding: latin-1 -*-").
//
// CPython 3.11 resolves a declared encoding in two steps: the tokenizer's
// get_normal_name turns utf-8 and latin-1 spellings into "utf-8" / "iso-8859-1",
// then codecs.lookup normalises the name and finds a module of the `encodings`
// package, directly or through encodings.aliases. This module reproduces that
// resolution from tables generated from the interpreter (codec_tables.inc, by
// tools/gen_unicode_tables.py) and decodes the codecs a Python source can
// reasonably use: UTF-8 and every one-byte-per-character codec.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace t2k::codecs {

// What CPython's tokenizer makes of a declared name before codec lookup:
// "utf-8" for utf-8 and utf-8-* (compared on the first 12 characters, lower-cased,
// '_' read as '-'), "iso-8859-1" for latin-1, iso-8859-1, iso-latin-1 and their
// "-*" forms, otherwise `declared` itself. With a UTF-8 BOM, CPython requires
// this to be exactly "utf-8" ("encoding problem: utf8 with BOM" otherwise).
std::string_view tokenizer_normal_name(std::string_view declared);

// The codec module (of the `encodings` package) that CPython 3.11 decodes a
// source with when it declares `declared`, e.g. "utf_8", "latin_1", "cp1252",
// "koi8_r", "iso8859_5", "rot_13"; nullopt where CPython reports "unknown
// encoding" (including mbcs and oem, which exist only on Windows). Names are
// expected to be what the cookie grammar admits, [A-Za-z0-9._-]+; other
// non-alphanumeric bytes are treated as separators, like punctuation.
std::optional<std::string> canonical_codec_name(std::string_view declared);

// False for codecs that are not text encodings (rot_13, hex_codec, base64_codec,
// ...), for which CPython reports "'NAME' is not a text encoding; use
// codecs.decode() to handle arbitrary codecs". True for every other known codec.
bool is_text_encoding(std::string_view canonical);

// True for codecs decode_to_utf8 handles: utf_8, utf_8_sig, and every codec of one
// byte per character (ascii, latin_1, charmap, cp1252, koi8_r, iso8859_*, mac_*,
// cp437, ...). Multi-byte codecs (shift_jis, gbk, utf_16, ...) are known to
// canonical_codec_name but not supported.
bool is_supported(std::string_view canonical);

// Decodes `bytes` in codec `canonical` and appends the UTF-8 text to `out`,
// strictly: on the first byte that is undefined in the codec (or the start of the
// first malformed UTF-8 sequence) returns false with `error_offset` set to its
// offset, as UnicodeDecodeError.start would be; `out` then holds the text before
// it. Also false, with error_offset 0, for an unsupported codec. utf_8_sig drops
// one leading BOM.
bool decode_to_utf8(std::string_view canonical, std::string_view bytes, std::string& out,
                    std::size_t& error_offset);

}  // namespace t2k::codecs
