// Coding-cookie resolution and strict decoding of Python sources.
//
// The resolution follows CPython 3.11's observable behaviour, which the
// generator (tools/gen_unicode_tables.py) checks against compile() for every
// codec name and alias in many spellings before recording its answers in
// tests/data/unicode_golden.txt:
//   1. get_normal_name (Parser/tokenizer.c) maps utf-8 / latin-1 spellings;
//   2. codecs.lookup lower-cases, and encodings.normalize_encoding keeps ASCII
//      letters, digits and '.', turning each run of other characters between
//      them into one '_';
//   3. encodings.search_function looks the result up in encodings.aliases (as is,
//      then with '.' -> '_'), and imports the alias target or else the name
//      itself as a module of `encodings`, skipping names that contain '.'.
#include "torch2keras/base/codecs.h"

#include <algorithm>
#include <cstdint>
#include <iterator>

#include "torch2keras/base/unicode.h"

namespace t2k::codecs {
namespace {

enum class CodecKind : std::uint8_t {
  kUtf8,         // utf_8
  kUtf8Sig,      // utf_8_sig: utf_8 that drops one leading BOM
  kCharmap,      // one byte per character, table in kCharmaps
  kUnsupported,  // a text encoding we do not decode (multi-byte, escapes, utf_16, ...)
  kNotText,      // bytes-to-bytes or rot_13: CPython refuses it for source
};

struct CodecEntry {
  std::string_view name;
  CodecKind kind;
  std::uint16_t charmap;  // index into kCharmaps when kind == kCharmap
};

struct CodecAlias {
  std::string_view alias;
  std::uint16_t codec;  // index into kCodecs
};

#include "torch2keras/base/codec_tables.inc"

constexpr char16_t kUndefinedByte = 0xFFFF;

const CodecEntry* find_codec(std::string_view name) {
  const auto* it =
      std::lower_bound(std::begin(kCodecs), std::end(kCodecs), name,
                       [](const CodecEntry& e, std::string_view n) { return e.name < n; });
  return it != std::end(kCodecs) && it->name == name ? it : nullptr;
}

const CodecEntry* find_alias(std::string_view name) {
  const auto* it =
      std::lower_bound(std::begin(kCodecAliases), std::end(kCodecAliases), name,
                       [](const CodecAlias& a, std::string_view n) { return a.alias < n; });
  return it != std::end(kCodecAliases) && it->alias == name ? &kCodecs[it->codec] : nullptr;
}

bool is_ascii_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Step 2: lower-case; keep [a-z0-9.], one '_' for each inner run of the rest.
std::string normalize_encoding(std::string_view name) {
  std::string out;
  bool punct = false;
  for (const char c : name) {
    if (is_ascii_alnum(c) || c == '.') {
      if (punct && !out.empty()) out.push_back('_');
      out.push_back(ascii_lower(c));
      punct = false;
    } else {
      punct = true;
    }
  }
  return out;
}

const CodecEntry* resolve(std::string_view declared) {
  const std::string_view normal = tokenizer_normal_name(declared);
  if (normal == "utf-8") return find_codec("utf_8");
  const std::string norm = normalize_encoding(normal);
  const CodecEntry* aliased = find_alias(norm);
  if (aliased == nullptr) {
    std::string underscored = norm;
    std::replace(underscored.begin(), underscored.end(), '.', '_');
    aliased = find_alias(underscored);
  }
  if (aliased != nullptr) return aliased;  // kCodecAliases only names present modules
  if (norm.empty() || norm.find('.') != std::string::npos) return nullptr;
  return find_codec(norm);
}

bool decode_charmap(const std::uint16_t (&pieces)[8], std::string_view bytes, std::string& out,
                    std::size_t& error_offset) {
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const unsigned b = static_cast<unsigned char>(bytes[i]);
    const char16_t c = kCharmapPieces[pieces[b / 32] * 32u + b % 32];
    if (c == kUndefinedByte) {
      error_offset = i;
      return false;
    }
    unicode::append_utf8(out, c);
  }
  return true;
}

bool decode_utf8_text(std::string_view bytes, std::string& out, std::size_t& error_offset) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    const std::size_t start = i;
    if (!unicode::decode_utf8(bytes, i)) {
      error_offset = i;
      return false;
    }
    out.append(bytes.substr(start, i - start));
  }
  return true;
}

}  // namespace

std::string_view tokenizer_normal_name(std::string_view declared) {
  // Only the first 12 characters are looked at (stopping at a NUL, as the C
  // string would); "iso-latin-1-" is exactly 12.
  std::string buf;
  for (std::size_t i = 0; i < declared.size() && i < 12 && declared[i] != '\0'; ++i) {
    buf.push_back(declared[i] == '_' ? '-' : ascii_lower(declared[i]));
  }
  const std::string_view b = buf;
  if (b == "utf-8" || b.starts_with("utf-8-")) return "utf-8";
  if (b == "latin-1" || b == "iso-8859-1" || b == "iso-latin-1" || b.starts_with("latin-1-") ||
      b.starts_with("iso-8859-1-") || b.starts_with("iso-latin-1-")) {
    return "iso-8859-1";
  }
  return declared;
}

std::optional<std::string> canonical_codec_name(std::string_view declared) {
  const CodecEntry* codec = resolve(declared);
  if (codec == nullptr) return std::nullopt;
  return std::string(codec->name);
}

bool is_text_encoding(std::string_view canonical) {
  const CodecEntry* codec = find_codec(canonical);
  return codec != nullptr && codec->kind != CodecKind::kNotText;
}

bool is_supported(std::string_view canonical) {
  const CodecEntry* codec = find_codec(canonical);
  return codec != nullptr &&
         (codec->kind == CodecKind::kUtf8 || codec->kind == CodecKind::kUtf8Sig ||
          codec->kind == CodecKind::kCharmap);
}

bool decode_to_utf8(std::string_view canonical, std::string_view bytes, std::string& out,
                    std::size_t& error_offset) {
  const CodecEntry* codec = find_codec(canonical);
  if (codec == nullptr) {
    error_offset = 0;
    return false;
  }
  switch (codec->kind) {
    case CodecKind::kUtf8: return decode_utf8_text(bytes, out, error_offset);
    case CodecKind::kUtf8Sig: {
      constexpr std::string_view kBom = "\xEF\xBB\xBF";
      const std::size_t skip = bytes.starts_with(kBom) ? kBom.size() : 0;
      const bool ok = decode_utf8_text(bytes.substr(skip), out, error_offset);
      if (!ok) error_offset += skip;
      return ok;
    }
    case CodecKind::kCharmap:
      return decode_charmap(kCharmaps[codec->charmap], bytes, out, error_offset);
    case CodecKind::kUnsupported:
    case CodecKind::kNotText: break;
  }
  error_offset = 0;
  return false;
}

}  // namespace t2k::codecs
