// Lookups over the generated Unicode tables, NFKC, "\N{...}" names and UTF-8.
//
// The tables (unicode_data.inc, unicode_names.inc) are produced from CPython 3.11
// by tools/gen_unicode_tables.py; this file only knows their layout, which the
// generator documents. Per-code-point properties use three-level tables (O(1));
// names are a sorted, word-coded list searched by binary search over blocks.
#include "torch2keras/base/unicode.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <utility>
#include <vector>

namespace t2k::unicode {
namespace {

#include "torch2keras/base/unicode_data.inc"
#include "torch2keras/base/unicode_names.inc"

constexpr std::uint8_t kFlagXidStart = 1;
constexpr std::uint8_t kFlagXidContinue = 2;
constexpr std::uint8_t kFlagPrintable = 4;

// Hangul syllable arithmetic (Unicode chapter 3.12, "Conjoining Jamo Behavior").
constexpr char32_t kSBase = 0xAC00;
constexpr char32_t kLBase = 0x1100;
constexpr char32_t kVBase = 0x1161;
constexpr char32_t kTBase = 0x11A7;
constexpr char32_t kLCount = 19;
constexpr char32_t kVCount = 21;
constexpr char32_t kTCount = 28;
constexpr char32_t kNCount = kVCount * kTCount;
constexpr char32_t kSCount = kLCount * kNCount;
static_assert(std::size(kJamoL) == kLCount && std::size(kJamoV) == kVCount &&
              std::size(kJamoT) == kTCount);

// Reads a three-level table built by MultiLevel in the generator.
template <int kShift1, int kShift2, class Top, class Mid, class Leaf>
auto lookup3(const Top& top, const Mid& mid, const Leaf& leaf, char32_t c) {
  constexpr std::uint32_t kMidMask = (1u << (kShift1 - kShift2)) - 1;
  constexpr std::uint32_t kLeafMask = (1u << kShift2) - 1;
  const std::size_t b1 = top[c >> kShift1];
  const std::size_t b2 = mid[(b1 << (kShift1 - kShift2)) + ((c >> kShift2) & kMidMask)];
  return leaf[(b2 << kShift2) + (c & kLeafMask)];
}

std::uint8_t prop_record(char32_t c) {
  if (c > kMaxCodePoint) return 0;  // record 0: no flags, class 0
  return lookup3<kPropShift1, kPropShift2>(kPropTop, kPropMid, kPropLeaf, c);
}

std::uint8_t flags_of(char32_t c) {
  return kPropFlags[prop_record(c)];
}
std::uint8_t ccc_of(char32_t c) {
  return kPropCcc[prop_record(c)];
}

// Appends the full NFKD mapping of `c` (which is already in canonical order).
void append_nfkd(std::u32string& out, char32_t c) {
  if (c >= kSBase && c < kSBase + kSCount) {
    const char32_t s = c - kSBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount != 0) out.push_back(kTBase + s % kTCount);
    return;
  }
  if (c > kMaxCodePoint) {
    out.push_back(c);
    return;
  }
  const std::size_t index =
      lookup3<kDecompShift1, kDecompShift2>(kDecompTop, kDecompMid, kDecompLeaf, c);
  if (index == 0) {
    out.push_back(c);
    return;
  }
  out.append(kDecompData + kDecompOffsets[index - 1], kDecompData + kDecompOffsets[index]);
}

// Canonical ordering: stable sort of every run of non-starters by combining class.
void canonical_order(std::u32string& text) {
  std::vector<std::pair<std::uint8_t, char32_t>> run;
  std::size_t i = 0;
  while (i < text.size()) {
    if (ccc_of(text[i]) == 0) {
      ++i;
      continue;
    }
    std::size_t end = i;
    run.clear();
    while (end < text.size() && ccc_of(text[end]) != 0) {
      run.emplace_back(ccc_of(text[end]), text[end]);
      ++end;
    }
    if (run.size() > 1) {
      std::stable_sort(run.begin(), run.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      for (std::size_t k = 0; k < run.size(); ++k) text[i + k] = run[k].second;
    }
    i = end;
  }
}

// The primary composite of <first, second>, if any.
std::optional<char32_t> compose_pair(char32_t first, char32_t second) {
  if (first >= kLBase && first < kLBase + kLCount && second >= kVBase &&
      second < kVBase + kVCount) {
    return kSBase + ((first - kLBase) * kVCount + (second - kVBase)) * kTCount;
  }
  if (first >= kSBase && first < kSBase + kSCount && (first - kSBase) % kTCount == 0 &&
      second > kTBase && second < kTBase + kTCount) {
    return first + (second - kTBase);
  }
  const auto* it =
      std::lower_bound(std::begin(kCompositionPairs), std::end(kCompositionPairs),
                       std::pair{first, second}, [](const CompositionPair& p, const auto& key) {
                         return p.first != key.first ? p.first < key.first : p.second < key.second;
                       });
  if (it != std::end(kCompositionPairs) && it->first == first && it->second == second) {
    return it->composite;
  }
  return std::nullopt;
}

// Canonical composition (UAX #15, D117): each character combines with the last
// starter unless blocked, i.e. unless a character between them has a combining
// class of 0 or not lower than its own. Between the starter and the current
// character only non-starters remain, in non-decreasing class order, so the last
// one's class decides.
std::u32string compose(const std::u32string& text) {
  constexpr std::size_t kNone = static_cast<std::size_t>(-1);
  std::u32string out;
  out.reserve(text.size());
  std::size_t starter = kNone;
  int last_ccc = -1;  // class of the last character after the starter; -1: none
  for (const char32_t c : text) {
    const int ccc = ccc_of(c);
    if (starter != kNone && (last_ccc == -1 || last_ccc < ccc)) {
      if (const auto composite = compose_pair(out[starter], c)) {
        out[starter] = *composite;
        continue;
      }
    }
    if (ccc == 0) {
      starter = out.size();
      last_ccc = -1;
    } else {
      last_ccc = ccc;
    }
    out.push_back(c);
  }
  return out;
}

// ---- names ----------------------------------------------------------------

// Value of a symbol of kNameChunks: its index in printable ASCII without '"',
// '?' and '\' (see ALPHABET in the generator).
int symbol_value(char ch) {
  const int c = static_cast<unsigned char>(ch);
  return c - 0x20 - (c > '"') - (c > '?') - (c > '\\');
}
constexpr int kBase = 92;

const std::vector<std::string_view>& name_words() {
  static const std::vector<std::string_view> words = [] {
    std::vector<std::string_view> out;
    out.reserve(kWordCount);
    for (const std::string_view chunk : kWordChunks) {
      std::size_t start = 0;
      while (start <= chunk.size()) {
        std::size_t end = chunk.find(' ', start);
        if (end == std::string_view::npos) end = chunk.size();
        out.push_back(chunk.substr(start, end - start));
        start = end + 1;
      }
    }
    return out;
  }();
  return words;
}

// Walks the entries of one block of the sorted name list.
class NameCursor {
 public:
  explicit NameCursor(std::size_t block)
      : chunk_(kNameChunks[kNameBlocks[block] >> 16]), pos_(kNameBlocks[block] & 0xFFFF) {}

  // Decodes the next entry into name() and code_point().
  void next() {
    const std::vector<std::string_view>& dictionary = name_words();
    const std::size_t shared = static_cast<std::size_t>(sym(0));
    const std::uint32_t key =
        static_cast<std::uint32_t>((sym(1) * kBase + sym(2)) * kBase + sym(3));
    code_point_ = key < 0x40000 ? key : key + 0xA0000;  // plane 14 was folded down
    pos_ += 4;
    words_.resize(shared);
    while (sym(0) != 0) {
      const int lead = sym(0);
      std::size_t rank;
      if (lead <= kWordOneSymbol) {
        rank = static_cast<std::size_t>(lead - 1);
        pos_ += 1;
      } else if (lead <= kWordOneSymbol + kWordTwoSymbolLeads) {
        rank =
            static_cast<std::size_t>(kWordOneSymbol + (lead - 1 - kWordOneSymbol) * kBase + sym(1));
        pos_ += 2;
      } else {
        rank = static_cast<std::size_t>(kWordOneSymbol + kWordTwoSymbolLeads * kBase +
                                        (lead - 1 - kWordOneSymbol - kWordTwoSymbolLeads) * kBase *
                                            kBase +
                                        sym(1) * kBase + sym(2));
        pos_ += 3;
      }
      words_.push_back(dictionary[rank]);
    }
    pos_ += 1;
    name_.clear();
    for (std::size_t i = 0; i < words_.size(); ++i) {
      if (i != 0) name_.push_back(' ');
      name_.append(words_[i]);
    }
  }

  const std::string& name() const { return name_; }
  char32_t code_point() const { return code_point_; }

 private:
  int sym(std::size_t ahead) const { return symbol_value(chunk_[pos_ + ahead]); }

  std::string_view chunk_;
  std::size_t pos_;
  std::vector<std::string_view> words_;
  std::string name_;
  char32_t code_point_ = 0;
};

std::optional<char32_t> lookup_stored_name(std::string_view upper) {
  constexpr std::size_t kBlocks = std::size(kNameBlocks);
  static_assert(kBlocks == (kNameCount + kNameBlockEntries - 1) / kNameBlockEntries);
  // The last block whose first name is <= upper.
  std::size_t lo = 0;
  std::size_t hi = kBlocks;
  while (hi - lo > 1) {
    const std::size_t mid = lo + (hi - lo) / 2;
    NameCursor cursor(mid);
    cursor.next();
    if (std::string_view(cursor.name()) <= upper) {
      lo = mid;
    } else {
      hi = mid;
    }
  }
  NameCursor cursor(lo);
  const std::size_t entries = std::min(kNameBlockEntries, kNameCount - lo * kNameBlockEntries);
  for (std::size_t i = 0; i < entries; ++i) {
    cursor.next();
    const int order = std::string_view(cursor.name()).compare(upper);
    if (order == 0) return cursor.code_point();
    if (order > 0) break;
  }
  return std::nullopt;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses 4 or 5 upper-case hex digits.
std::optional<char32_t> parse_hex_suffix(std::string_view digits) {
  if (digits.size() != 4 && digits.size() != 5) return std::nullopt;
  char32_t value = 0;
  for (const char c : digits) {
    const int d = hex_digit(c);
    if (d < 0) return std::nullopt;
    value = value * 16 + static_cast<char32_t>(d);
  }
  return value;
}

bool in_ranges(const CodePointRange* first, const CodePointRange* last, char32_t c) {
  const auto* it = std::upper_bound(
      first, last, c, [](char32_t v, const CodePointRange& r) { return v < r.first; });
  return it != first && c <= (it - 1)->last;
}

std::optional<char32_t> lookup_cjk_unified(std::string_view digits) {
  const auto value = parse_hex_suffix(digits);
  if (!value || !in_ranges(std::begin(kCjkUnifiedRanges), std::end(kCjkUnifiedRanges), *value)) {
    return std::nullopt;
  }
  return value;
}

std::optional<char32_t> lookup_hangul(std::string_view jamo) {
  // Every string accepted is some L + V + T concatenation, i.e. the name of that
  // syllable; trying all splits accepts exactly the syllable names.
  for (char32_t l = 0; l < kLCount; ++l) {
    if (!jamo.starts_with(kJamoL[l])) continue;
    const std::string_view after_l = jamo.substr(kJamoL[l].size());
    for (char32_t v = 0; v < kVCount; ++v) {
      if (!after_l.starts_with(kJamoV[v])) continue;
      const std::string_view after_v = after_l.substr(kJamoV[v].size());
      for (char32_t t = 0; t < kTCount; ++t) {
        if (after_v == kJamoT[t]) return kSBase + (l * kVCount + v) * kTCount + t;
      }
    }
  }
  return std::nullopt;
}

std::optional<char32_t> lookup_hex_family(std::string_view upper) {
  for (const HexNamedFamily& family : kHexNamedFamilies) {
    if (upper.size() <= family.prefix.size() || !upper.starts_with(family.prefix) ||
        upper[family.prefix.size()] != '-') {
      continue;
    }
    const std::string_view digits = upper.substr(family.prefix.size() + 1);
    const auto value = parse_hex_suffix(digits);
    // Stored names are spelt "%04X": no leading zero beyond four digits.
    if (value && digits.size() == (*value > 0xFFFF ? 5u : 4u) &&
        in_ranges(kHexNamedRanges + family.first_range, kHexNamedRanges + family.end_range,
                  *value)) {
      return value;
    }
    break;  // no two family prefixes overlap; the stored list is searched next
  }
  return std::nullopt;
}

}  // namespace

bool is_xid_start(char32_t c) {
  return (flags_of(c) & kFlagXidStart) != 0;
}
bool is_xid_continue(char32_t c) {
  return (flags_of(c) & kFlagXidContinue) != 0;
}
bool is_printable(char32_t c) {
  return (flags_of(c) & kFlagPrintable) != 0;
}

std::u32string nfkc(std::u32string_view s) {
  if (std::all_of(s.begin(), s.end(), [](char32_t c) { return c < kNfkcQuickLimit; })) {
    return std::u32string(s);
  }
  std::u32string decomposed;
  decomposed.reserve(s.size() + s.size() / 2);
  for (const char32_t c : s) append_nfkd(decomposed, c);
  canonical_order(decomposed);
  return compose(decomposed);
}

std::optional<char32_t> lookup_name(std::string_view name) {
  // CPython tries the algorithmic names first, comparing their prefixes
  // case-sensitively; no stored name starts with either prefix.
  if (name.starts_with(kCjkPrefix)) return lookup_cjk_unified(name.substr(kCjkPrefix.size()));
  if (name.starts_with(kHangulPrefix)) return lookup_hangul(name.substr(kHangulPrefix.size()));
  if (name.empty() || name.size() > kMaxStoredNameLength) return std::nullopt;
  // Stored names are matched after ASCII upper-casing; they are all ASCII.
  std::string upper(name);
  for (char& c : upper) {
    if (static_cast<unsigned char>(c) >= 0x80) return std::nullopt;
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  if (const auto value = lookup_hex_family(upper)) return value;
  return lookup_stored_name(upper);
}

void append_utf8(std::string& out, char32_t c) {
  if (c > kMaxCodePoint) c = 0xFFFD;
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
  }
}

namespace {

// Decodes the sequence at s[i]; `allow_surrogates` selects WTF-8 over UTF-8.
// Returns the code point and its length, or length 0 if malformed.
std::pair<char32_t, std::size_t> decode_sequence(std::string_view s, std::size_t i,
                                                 bool allow_surrogates) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const auto continuation = [&](std::size_t k) {
    return i + k < s.size() && (byte(k) & 0xC0) == 0x80;
  };
  const unsigned char b0 = byte(0);
  if (b0 < 0x80) return {b0, 1};
  // The well-formed table of Unicode chapter 3, table 3-7, which is also what
  // CPython's strict decoder accepts: the second byte's range depends on the first.
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (!continuation(1)) return {0, 0};
    return {static_cast<char32_t>((b0 & 0x1F) << 6 | (byte(1) & 0x3F)), 2};
  }
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (!continuation(1) || !continuation(2)) return {0, 0};
    const char32_t c =
        static_cast<char32_t>((b0 & 0x0F) << 12 | (byte(1) & 0x3F) << 6 | (byte(2) & 0x3F));
    if (c < 0x800) return {0, 0};  // overlong
    if (!allow_surrogates && c >= 0xD800 && c <= 0xDFFF) return {0, 0};
    return {c, 3};
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return {0, 0};
    const char32_t c = static_cast<char32_t>((b0 & 0x07) << 18 | (byte(1) & 0x3F) << 12 |
                                             (byte(2) & 0x3F) << 6 | (byte(3) & 0x3F));
    if (c < 0x10000 || c > kMaxCodePoint) return {0, 0};
    return {c, 4};
  }
  return {0, 0};
}

}  // namespace

std::optional<char32_t> decode_utf8(std::string_view s, std::size_t& i) {
  if (i >= s.size()) return std::nullopt;
  const auto [c, length] = decode_sequence(s, i, /*allow_surrogates=*/false);
  if (length == 0) return std::nullopt;
  i += length;
  return c;
}

char32_t decode_wtf8(std::string_view s, std::size_t& i) {
  if (i >= s.size()) {  // a caller bug; still step forward so that loops end
    ++i;
    return 0xFFFD;
  }
  const auto [c, length] = decode_sequence(s, i, /*allow_surrogates=*/true);
  if (length == 0) {
    ++i;
    return 0xFFFD;
  }
  i += length;
  return c;
}

}  // namespace t2k::unicode
