#!/usr/bin/env python3
"""Generates the Unicode, character-name and codec tables of the C++ engine.

The engine's parser must agree with CPython 3.11 byte for byte, so every fact in
the tables is read from the running interpreter (its `unicodedata` is Unicode
14.0.0, its `encodings` package defines the codecs) rather than from UCD files.
The one exception is the list of formal name aliases, which `unicodedata` can
resolve but not enumerate: it is written out below (Unicode 14.0.0's
NameAliases.txt) and every entry is checked against the interpreter.

Outputs (all deterministic; `--check` regenerates into memory and exits 1 if a
committed file differs):
  src/torch2keras/base/unicode_data.inc   identifier/printable flags, combining
                                          classes, NFKD mappings, composition pairs
  src/torch2keras/base/unicode_names.inc  character names and aliases for \\N{...}
  src/torch2keras/base/codec_tables.inc   codec names, aliases, single-byte tables
  tests/data/unicode_golden.txt           an independent random sample of
                                          interpreter answers for the C++ tests

Usage: python3 tools/gen_unicode_tables.py [--check]
"""

import argparse
import codecs
import collections
import encodings
import encodings.aliases
import importlib
import os
import pkgutil
import random
import re
import struct
import sys
import unicodedata

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMMAND = "python3 tools/gen_unicode_tables.py"
MAX_CP = 0x10FFFF
N_CP = MAX_CP + 1

# Hangul syllables (UAX #15 section 3.12 / Unicode chapter 3.12): algorithmic
# names and decompositions.
S_BASE, L_BASE, V_BASE, T_BASE = 0xAC00, 0x1100, 0x1161, 0x11A7
L_COUNT, V_COUNT, T_COUNT = 19, 21, 28
N_COUNT = V_COUNT * T_COUNT
S_COUNT = L_COUNT * N_COUNT
# Jamo short names (Unicode's Jamo.txt); checked against unicodedata.name below.
JAMO_L = "G GG N D DD R M B BB S SS - J JJ C K T P H".split()
JAMO_V = "A AE YA YAE EO E YEO YE O WA WAE OE YO U WEO WE WI YU EU YI I".split()
JAMO_T = "- G GG GS N NJ NH D L LG LM LB LS LT LP LH M B BS S SS NG J C K T P H".split()
JAMO_L = ["" if s == "-" else s for s in JAMO_L]
JAMO_T = ["" if s == "-" else s for s in JAMO_T]

# Formal name aliases of Unicode 14.0.0 (NameAliases.txt, all five types).
# Format: code point, then its aliases separated by '|'.
NAME_ALIASES = """
0000 NULL|NUL
0001 START OF HEADING|SOH
0002 START OF TEXT|STX
0003 END OF TEXT|ETX
0004 END OF TRANSMISSION|EOT
0005 ENQUIRY|ENQ
0006 ACKNOWLEDGE|ACK
0007 ALERT|BEL
0008 BACKSPACE|BS
0009 CHARACTER TABULATION|HORIZONTAL TABULATION|HT|TAB
000A LINE FEED|NEW LINE|END OF LINE|LF|NL|EOL
000B LINE TABULATION|VERTICAL TABULATION|VT
000C FORM FEED|FF
000D CARRIAGE RETURN|CR
000E SHIFT OUT|LOCKING-SHIFT ONE|SO
000F SHIFT IN|LOCKING-SHIFT ZERO|SI
0010 DATA LINK ESCAPE|DLE
0011 DEVICE CONTROL ONE|DC1
0012 DEVICE CONTROL TWO|DC2
0013 DEVICE CONTROL THREE|DC3
0014 DEVICE CONTROL FOUR|DC4
0015 NEGATIVE ACKNOWLEDGE|NAK
0016 SYNCHRONOUS IDLE|SYN
0017 END OF TRANSMISSION BLOCK|ETB
0018 CANCEL|CAN
0019 END OF MEDIUM|EOM
001A SUBSTITUTE|SUB
001B ESCAPE|ESC
001C INFORMATION SEPARATOR FOUR|FILE SEPARATOR|FS
001D INFORMATION SEPARATOR THREE|GROUP SEPARATOR|GS
001E INFORMATION SEPARATOR TWO|RECORD SEPARATOR|RS
001F INFORMATION SEPARATOR ONE|UNIT SEPARATOR|US
0020 SP
007F DELETE|DEL
0080 PADDING CHARACTER|PAD
0081 HIGH OCTET PRESET|HOP
0082 BREAK PERMITTED HERE|BPH
0083 NO BREAK HERE|NBH
0084 INDEX|IND
0085 NEXT LINE|NEL
0086 START OF SELECTED AREA|SSA
0087 END OF SELECTED AREA|ESA
0088 CHARACTER TABULATION SET|HORIZONTAL TABULATION SET|HTS
0089 CHARACTER TABULATION WITH JUSTIFICATION|HORIZONTAL TABULATION WITH JUSTIFICATION|HTJ
008A LINE TABULATION SET|VERTICAL TABULATION SET|VTS
008B PARTIAL LINE FORWARD|PARTIAL LINE DOWN|PLD
008C PARTIAL LINE BACKWARD|PARTIAL LINE UP|PLU
008D REVERSE LINE FEED|REVERSE INDEX|RI
008E SINGLE SHIFT TWO|SINGLE-SHIFT-2|SS2
008F SINGLE SHIFT THREE|SINGLE-SHIFT-3|SS3
0090 DEVICE CONTROL STRING|DCS
0091 PRIVATE USE ONE|PRIVATE USE-1|PU1
0092 PRIVATE USE TWO|PRIVATE USE-2|PU2
0093 SET TRANSMIT STATE|STS
0094 CANCEL CHARACTER|CCH
0095 MESSAGE WAITING|MW
0096 START OF GUARDED AREA|START OF PROTECTED AREA|SPA
0097 END OF GUARDED AREA|END OF PROTECTED AREA|EPA
0098 START OF STRING|SOS
0099 SINGLE GRAPHIC CHARACTER INTRODUCER|SGC
009A SINGLE CHARACTER INTRODUCER|SCI
009B CONTROL SEQUENCE INTRODUCER|CSI
009C STRING TERMINATOR|ST
009D OPERATING SYSTEM COMMAND|OSC
009E PRIVACY MESSAGE|PM
009F APPLICATION PROGRAM COMMAND|APC
00A0 NBSP
00AD SHY
01A2 LATIN CAPITAL LETTER GHA
01A3 LATIN SMALL LETTER GHA
034F CGJ
061C ALM
0709 SYRIAC SUBLINEAR COLON SKEWED LEFT
0CDE KANNADA LETTER LLLA
0E9D LAO LETTER FO FON
0E9F LAO LETTER FO FAY
0EA3 LAO LETTER RO
0EA5 LAO LETTER LO
0FD0 TIBETAN MARK BKA- SHOG GI MGO RGYAN
11EC HANGUL JONGSEONG YESIEUNG-KIYEOK
11ED HANGUL JONGSEONG YESIEUNG-SSANGKIYEOK
11EE HANGUL JONGSEONG SSANGYESIEUNG
11EF HANGUL JONGSEONG YESIEUNG-KHIEUKH
180B FVS1
180C FVS2
180D FVS3
180E MVS
180F FVS4
200B ZWSP
200C ZWNJ
200D ZWJ
200E LRM
200F RLM
202A LRE
202B RLE
202C PDF
202D LRO
202E RLO
202F NNBSP
205F MMSP
2060 WJ
2066 LRI
2067 RLI
2068 FSI
2069 PDI
2118 WEIERSTRASS ELLIPTIC FUNCTION
2448 MICR ON US SYMBOL
2449 MICR DASH SYMBOL
2B7A LEFTWARDS TRIANGLE-HEADED ARROW WITH DOUBLE VERTICAL STROKE
2B7C RIGHTWARDS TRIANGLE-HEADED ARROW WITH DOUBLE VERTICAL STROKE
A015 YI SYLLABLE ITERATION MARK
AA6E MYANMAR LETTER KHAMTI LLA
FE18 PRESENTATION FORM FOR VERTICAL RIGHT WHITE LENTICULAR BRACKET
FEFF BYTE ORDER MARK|BOM|ZWNBSP
122D4 CUNEIFORM SIGN NU11 TENU
122D5 CUNEIFORM SIGN NU11 OVER NU11 BUR OVER BUR
16E56 MEDEFAIDRIN CAPITAL LETTER H
16E57 MEDEFAIDRIN CAPITAL LETTER NG
16E76 MEDEFAIDRIN SMALL LETTER H
16E77 MEDEFAIDRIN SMALL LETTER NG
1B001 HENTAIGANA LETTER E-1
1D0C5 BYZANTINE MUSICAL SYMBOL FTHORA SKLIRON CHROMA VASIS
"""
# Abbreviations VS1..VS16 (U+FE00..U+FE0F) and VS17..VS256 (U+E0100..U+E01EF).
VARIATION_SELECTOR_ALIASES = [(0xFE00 + i, "VS%d" % (i + 1)) for i in range(16)] + [
    (0xE0100 + i, "VS%d" % (i + 17)) for i in range(240)
]

# Named sequences that unicodedata.lookup accepts but "\N{...}" must reject;
# the golden file uses them as negative cases.
NAMED_SEQUENCES = [
    "KEYCAP NUMBER SIGN",
    "LATIN CAPITAL LETTER A WITH MACRON AND GRAVE",
    "TAMIL CONSONANT K",
    "GEORGIAN LETTER U-BRJGU",
    "KATAKANA LETTER AINU P",
]


def fail(message):
    sys.exit("gen_unicode_tables.py: " + message)


def check_interpreter():
    if sys.version_info[:2] != (3, 11):
        fail("needs CPython 3.11 (the version whose behaviour the engine matches), got %s" % sys.version.split()[0])
    if unicodedata.unidata_version != "14.0.0":
        fail("needs Unicode 14.0.0 in unicodedata, got %s" % unicodedata.unidata_version)


def header(what):
    return (
        "// Generated by `%s` from CPython 3.11 (Unicode 14.0.0); do not edit.\n"
        "//\n// %s\n" % (COMMAND, what)
    )


# ---------------------------------------------------------------------------
# C++ emission helpers.


def ctype_for(values):
    hi = max(values) if values else 0
    lo = min(values) if values else 0
    assert lo >= 0
    if hi < 1 << 8:
        return "std::uint8_t", 1
    if hi < 1 << 16:
        return "std::uint16_t", 2
    return "std::uint32_t", 4


def emit_array(name, values, ctype=None, fmt="%d"):
    if ctype is None:
        ctype, _ = ctype_for(values)
    lines = []
    line = "   "
    for v in values:
        item = " " + (fmt % v) + ","
        if len(line) + len(item) > 100:
            lines.append(line)
            line = "   "
        line += item
    if line.strip():
        lines.append(line)
    return "constexpr %s %s[] = {\n%s\n};\n" % (ctype, name, "\n".join(lines))


def emit_string_chunks(name, chunks):
    """Emits `chunks` (printable ASCII without '"', '\\' or '?') as an array of
    string literals, each under the 65536 characters that -Wpedantic allows."""
    out = ["constexpr std::string_view %s[] = {\n" % name]
    for chunk in chunks:
        assert len(chunk) < 65000
        assert all(0x20 <= ord(ch) < 0x7F and ch not in '"\\?' for ch in chunk)
        pieces = [chunk[i : i + 96] for i in range(0, len(chunk), 96)] or [""]
        out.append("    ")
        out.append("\n    ".join('"%s"' % p for p in pieces))
        out.append(",\n")
    out.append("};\n")
    return "".join(out)


class MultiLevel:
    """A three-level lookup table over all code points: O(1) lookup, with equal
    blocks shared at each level. Lookup (see unicode.cc):
        b1 = top[cp >> s1]
        b2 = mid[(b1 << (s1 - s2)) + ((cp >> s2) & mask1)]
        v  = leaf[(b2 << s2) + (cp & mask2)]"""

    def __init__(self, values):
        best = None
        for s1 in range(8, 17):
            for s2 in range(3, s1):
                cand = self._build(values, s1, s2)
                if best is None or cand[0] < best[0]:
                    best = cand
        self.size, self.s1, self.s2, self.top, self.mid, self.leaf = best

    @staticmethod
    def _split(values, shift):
        size = 1 << shift
        blocks = {}
        index = []
        pool = []
        for start in range(0, len(values), size):
            block = tuple(values[start : start + size])
            b = blocks.get(block)
            if b is None:
                b = len(blocks)
                blocks[block] = b
                pool.extend(block)
            index.append(b)
        return index, pool

    @classmethod
    def _build(cls, values, s1, s2):
        mid_index, leaf = cls._split(values, s2)
        top, mid = cls._split(mid_index, s1 - s2)
        size = sum(len(a) * ctype_for(a)[1] for a in (top, mid, leaf))
        return size, s1, s2, top, mid, leaf

    def lookup(self, cp):
        b1 = self.top[cp >> self.s1]
        b2 = self.mid[(b1 << (self.s1 - self.s2)) + ((cp >> self.s2) & ((1 << (self.s1 - self.s2)) - 1))]
        return self.leaf[(b2 << self.s2) + (cp & ((1 << self.s2) - 1))]

    def emit(self, prefix):
        return (
            "constexpr int %sShift1 = %d;\nconstexpr int %sShift2 = %d;\n" % (prefix, self.s1, prefix, self.s2)
            + emit_array(prefix + "Top", self.top)
            + emit_array(prefix + "Mid", self.mid)
            + emit_array(prefix + "Leaf", self.leaf)
        )


def ranges_of(cps):
    out = []
    for c in sorted(cps):
        if out and out[-1][1] == c - 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return out


# ---------------------------------------------------------------------------
# unicode_data.inc: flags, combining classes, NFKD mappings, composition pairs.

FLAG_XID_START = 1
FLAG_XID_CONTINUE = 2
FLAG_PRINTABLE = 4


def is_hangul_syllable(c):
    return S_BASE <= c < S_BASE + S_COUNT


def compute_unicode_data():
    records = {}
    record_list = []
    record_of = [0] * N_CP
    decomp = {}
    for c in range(N_CP):
        ch = chr(c)
        flags = 0
        # str.isidentifier: first character XID_Start or '_', the rest XID_Continue.
        if ch.isidentifier():
            flags |= FLAG_XID_START
        if ("a" + ch).isidentifier():
            flags |= FLAG_XID_CONTINUE
        if ch.isprintable():
            flags |= FLAG_PRINTABLE
        rec = (flags, unicodedata.combining(ch))
        r = records.get(rec)
        if r is None:
            r = records[rec] = len(record_list)
            record_list.append(rec)
        record_of[c] = r
        if not is_hangul_syllable(c):
            d = unicodedata.normalize("NFKD", ch)
            if d != ch:
                decomp[c] = [ord(x) for x in d]
    # Record 0 must be the default (no flags, class 0) so that unassigned code
    # points cost nothing; it is, because U+0000 is such a character.
    assert record_list[0] == (0, 0)

    decomp_index = [0] * N_CP
    offsets = [0]
    data = []
    for i, c in enumerate(sorted(decomp)):
        decomp_index[c] = i + 1
        data.extend(decomp[c])
        offsets.append(len(data))
        assert not any(is_hangul_syllable(x) for x in decomp[c])

    pairs = []
    for c in range(N_CP):
        d = unicodedata.decomposition(chr(c))
        if not d or d.startswith("<"):
            continue
        parts = [int(x, 16) for x in d.split()]
        # A primary composite: a two-character canonical decomposition that NFC
        # recomposes (this excludes CompositionExclusions.txt, singletons and
        # non-starter decompositions, whatever the interpreter's data says).
        if len(parts) == 2 and unicodedata.normalize("NFC", chr(c)) == chr(c):
            pairs.append((parts[0], parts[1], c))
    pairs.sort()

    # Below this code point nothing decomposes, reorders or composes (no
    # mapping, no combining class, no second half of a pair), so NFKC of a
    # string made only of such characters is the string itself.
    quick_limit = min(
        [c for c in decomp]
        + [c for c in range(N_CP) if record_list[record_of[c]][1] != 0]
        + [p[1] for p in pairs]
        + [V_BASE, T_BASE + 1]
    )
    return record_list, record_of, decomp_index, offsets, data, pairs, quick_limit


def gen_unicode_data():
    record_list, record_of, decomp_index, offsets, data, pairs, quick_limit = compute_unicode_data()
    props = MultiLevel(record_of)
    decomp = MultiLevel(decomp_index)
    for c in range(0, N_CP, 97):
        assert props.lookup(c) == record_of[c] and decomp.lookup(c) == decomp_index[c]
    out = [header(
        "Per-code-point facts behind t2k::unicode (included by unicode.cc only):\n"
        "//   * kProp*: record index -> kPropFlags (bit 0 str.isidentifier() of the character\n"
        "//     alone, i.e. XID_Start or '_'; bit 1 XID_Continue; bit 2 str.isprintable())\n"
        "//     and kPropCcc (canonical combining class);\n"
        "//   * kDecomp*: index (0 = none) of the full NFKD mapping, which is\n"
        "//     kDecompData[kDecompOffsets[i - 1], kDecompOffsets[i]); Hangul syllables are\n"
        "//     decomposed algorithmically instead;\n"
        "//   * kCompositionPairs: primary composites, sorted by (first, second).")]
    out.append("\n// Characters below this are never changed by NFKC, alone or in sequence.\n")
    out.append("constexpr char32_t kNfkcQuickLimit = 0x%X;\n\n" % quick_limit)
    out.append(emit_array("kPropFlags", [r[0] for r in record_list]))
    out.append(emit_array("kPropCcc", [r[1] for r in record_list]))
    out.append(props.emit("kProp"))
    out.append("\n")
    out.append(decomp.emit("kDecomp"))
    out.append(emit_array("kDecompOffsets", offsets))
    out.append(emit_array("kDecompData", data, "char32_t", "0x%X"))
    out.append("\nstruct CompositionPair {\n  char32_t first;\n  char32_t second;\n  char32_t composite;\n};\n")
    out.append("constexpr CompositionPair kCompositionPairs[] = {\n")
    for a, b, c in pairs:
        out.append("    {0x%X, 0x%X, 0x%X},\n" % (a, b, c))
    out.append("};\n")
    return "".join(out)


# ---------------------------------------------------------------------------
# unicode_names.inc: what "\N{...}" accepts.
#
# CPython 3.11 resolves a name in three ways (probed, see check_name_rules):
#   * "CJK UNIFIED IDEOGRAPH-" + 4 or 5 upper-case hex digits, case-sensitively;
#   * "HANGUL SYLLABLE " + jamo short names, case-sensitively;
#   * everything else (names and aliases) case-insensitively from its database.
# The third group is stored here in two forms: families named "PREFIX-%04X"
# (CJK COMPATIBILITY IDEOGRAPH, NUSHU CHARACTER, ...) as code point ranges, and
# all other names as a word-coded, front-compressed, sorted list.

# Symbols of the name stream: printable ASCII except '"' and '\\' (which would
# need escapes) and '?' (trigraph warnings); a symbol's value is its index here.
ALPHABET = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in '"?\\')
BASE = len(ALPHABET)
assert BASE == 92
BLOCK_ENTRIES = 32
CHUNK_LIMIT = 60000
CJK_PREFIX = "CJK UNIFIED IDEOGRAPH-"
HANGUL_PREFIX = "HANGUL SYLLABLE "


def cp_key(c):
    # Stored names lie in planes 0-3 and 14; fold plane 14 down so that every
    # key fits in three base-92 symbols (92**3 = 778688).
    if c < 0x40000:
        return c
    assert 0xE0000 <= c < 0xF0000, hex(c)
    return c - 0xA0000


def hangul_name(c):
    s = c - S_BASE
    return HANGUL_PREFIX + JAMO_L[s // N_COUNT] + JAMO_V[(s % N_COUNT) // T_COUNT] + JAMO_T[s % T_COUNT]


def name_aliases():
    out = []
    for line in NAME_ALIASES.strip().splitlines():
        cp, names = line.split(" ", 1)
        out.extend((int(cp, 16), n) for n in names.split("|"))
    return out + VARIATION_SELECTOR_ALIASES


def escape_n(name):
    try:
        value = eval('"\\N{%s}"' % name)  # the very thing the parser must match
    except SyntaxError:
        return None
    assert len(value) == 1
    return ord(value)


def collect_names():
    cjk = []
    hangul = 0
    hex_families = collections.defaultdict(list)
    explicit = []
    for c in range(N_CP):
        name = unicodedata.name(chr(c), None)
        if name is None:
            continue
        if name.startswith(CJK_PREFIX):
            assert name == CJK_PREFIX + "%04X" % c
            cjk.append(c)
            continue
        if name.startswith(HANGUL_PREFIX):
            assert name == hangul_name(c), (hex(c), name)
            hangul += 1
            continue
        m = re.match(r"^(.+)-([0-9A-F]{4,5})$", name)
        if m and m.group(2) == "%04X" % c:
            hex_families[m.group(1)].append(c)
        explicit.append((name, c))
    assert hangul == S_COUNT
    # Only families big enough to be worth a range table.
    families = []
    for prefix in sorted(hex_families):
        if len(hex_families[prefix]) >= 64:
            families.append((prefix, ranges_of(hex_families[prefix])))
    family_prefixes = {p for p, _ in families}

    def in_family(name, c):
        m = re.match(r"^(.+)-([0-9A-F]{4,5})$", name)
        return bool(m) and m.group(1) in family_prefixes and m.group(2) == "%04X" % c

    entries = [(n, c) for n, c in explicit if not in_family(n, c)]
    entries += [(n, c) for c, n in name_aliases()]
    seen = {}
    for n, c in entries:
        # lookup_name decides these prefixes without consulting the list.
        assert not n.startswith((CJK_PREFIX, HANGUL_PREFIX)), n
        assert n not in seen, n
        seen[n] = c
    entries.sort()
    return ranges_of(cjk), families, entries


def check_name_rules(cjk_ranges, families, entries):
    """Probes the interpreter for the rules that lookup_name implements."""
    for n, c in entries:
        assert escape_n(n) == c, (n, hex(c))
        assert escape_n(n.lower()) == c, n
    for prefix, ranges in families:
        for lo, hi in ranges:
            for c in (lo, hi):
                assert escape_n("%s-%04X" % (prefix.lower(), c)) == c
                assert escape_n("%s-%04x" % (prefix, c)) == c
                assert escape_n("%s-0%04X" % (prefix, c)) is None
    in_cjk = set()
    for lo, hi in cjk_ranges:
        in_cjk.update(range(lo, hi + 1))
    # unicodedata.lookup agrees with "\N{...}" here (no named sequences have
    # this prefix) and is much faster than eval.
    for v in range(0x100000):
        forms = ["%04X" % v, "%05X" % v] if v <= 0xFFFF else ["%05X" % v]
        for f in forms:
            try:
                ok = ord(unicodedata.lookup(CJK_PREFIX + f)) == v
            except KeyError:
                ok = False
            assert ok == (v in in_cjk), f
    for v in (0x4E00, 0x2A6DF):
        assert escape_n(CJK_PREFIX + "%06X" % v) is None
        assert escape_n(CJK_PREFIX + "%04x" % v) is None
        assert escape_n(CJK_PREFIX.lower() + "%04X" % v) is None
    for c in range(S_BASE, S_BASE + S_COUNT):
        assert ord(unicodedata.lookup(hangul_name(c))) == c
    assert escape_n(hangul_name(S_BASE).lower()) is None
    assert escape_n("HANGUL SYLLABLE ga") is None
    for n in NAMED_SEQUENCES:
        assert len(unicodedata.lookup(n)) > 1 and escape_n(n) is None


def encode_names(entries):
    """Returns (word chunks, name chunks, block index, (A, B, C)).

    An entry is: one symbol k (words shared with the previous entry of its
    block), three symbols of cp_key big-endian, the codes of the remaining
    words, and symbol 0. A word of frequency rank r is coded as one symbol
    1 + r (r < A), two symbols (r < A + B*92) or three symbols; see
    decode_word_code."""
    freq = collections.Counter()
    for n, _ in entries:
        freq.update(n.split(" "))
    words = sorted(freq, key=lambda w: (-freq[w], w))
    rank = {w: i for i, w in enumerate(words)}
    best = None
    for c3 in range(0, 4):
        for b in range(1, BASE - 1 - c3):
            a = BASE - 1 - b - c3
            if a + b * BASE + c3 * BASE * BASE < len(words):
                continue
            cost = 0
            for w in words:
                r = rank[w]
                cost += freq[w] * (1 if r < a else 2 if r < a + b * BASE else 3)
            if best is None or cost < best[0]:
                best = (cost, a, b, c3)
    _, A, B, C = best

    def word_code(r):
        if r < A:
            return [1 + r]
        r -= A
        if r < B * BASE:
            return [1 + A + r // BASE, r % BASE]
        r -= B * BASE
        return [1 + A + B + r // (BASE * BASE), (r // BASE) % BASE, r % BASE]

    chunks = [[]]
    blocks = []
    for start in range(0, len(entries), BLOCK_ENTRIES):
        block = []
        prev = []
        for n, c in entries[start : start + BLOCK_ENTRIES]:
            ws = n.split(" ")
            k = 0
            while k < len(prev) and k < len(ws) - 1 and prev[k] == ws[k]:
                k += 1
            key = cp_key(c)
            syms = [k, key // (BASE * BASE), (key // BASE) % BASE, key % BASE]
            for w in ws[k:]:
                syms.extend(word_code(rank[w]))
            syms.append(0)
            block.extend(syms)
            prev = ws
        if len(chunks[-1]) + len(block) > CHUNK_LIMIT:
            chunks.append([])
        blocks.append((len(chunks) - 1) << 16 | len(chunks[-1]))
        chunks[-1].extend(block)
    name_chunks = ["".join(ALPHABET[s] for s in ch) for ch in chunks]

    word_chunks = [[]]
    size = 0
    for w in words:
        if size + len(w) + 1 > CHUNK_LIMIT:
            word_chunks.append([])
            size = 0
        word_chunks[-1].append(w)
        size += len(w) + 1
    word_chunks = [" ".join(ch) for ch in word_chunks]

    # Decode everything back the way unicode.cc does.
    all_words = " ".join(word_chunks).split(" ")
    decoded = []
    for bi, loc in enumerate(blocks):
        chunk = name_chunks[loc >> 16]
        pos = loc & 0xFFFF
        prev = []
        for _ in range(min(BLOCK_ENTRIES, len(entries) - bi * BLOCK_ENTRIES)):
            sym = lambda i: ALPHABET.index(chunk[i])
            k = sym(pos)
            key = sym(pos + 1) * BASE * BASE + sym(pos + 2) * BASE + sym(pos + 3)
            pos += 4
            ws = prev[:k]
            while sym(pos) != 0:
                lead = sym(pos)
                if lead <= A:
                    r, pos = lead - 1, pos + 1
                elif lead <= A + B:
                    r, pos = A + (lead - 1 - A) * BASE + sym(pos + 1), pos + 2
                else:
                    r = A + B * BASE + (lead - 1 - A - B) * BASE * BASE + sym(pos + 1) * BASE + sym(pos + 2)
                    pos += 3
                ws.append(all_words[r])
            pos += 1
            decoded.append((" ".join(ws), key if key < 0x40000 else key + 0xA0000))
            prev = ws
    assert decoded == entries
    return word_chunks, name_chunks, blocks, (A, B, C), len(words)


def gen_unicode_names():
    cjk_ranges, families, entries = collect_names()
    check_name_rules(cjk_ranges, families, entries)
    word_chunks, name_chunks, blocks, (A, B, C), n_words = encode_names(entries)
    out = [header(
        "Character names and aliases for t2k::unicode::lookup_name (included by unicode.cc\n"
        "// only). See the generator for the encoding of kNameChunks.")]
    out.append("\nconstexpr std::string_view kCjkPrefix = \"%s\";\n" % CJK_PREFIX)
    out.append("constexpr std::string_view kHangulPrefix = \"%s\";\n" % HANGUL_PREFIX)
    out.append("\n// Unified ideographs: \"CJK UNIFIED IDEOGRAPH-\" + 4 or 5 upper-case hex digits.\n")
    out.append("struct CodePointRange {\n  char32_t first;\n  char32_t last;\n};\n")
    out.append("constexpr CodePointRange kCjkUnifiedRanges[] = {\n")
    for lo, hi in cjk_ranges:
        out.append("    {0x%X, 0x%X},\n" % (lo, hi))
    out.append("};\n\n// Jamo short names of Hangul syllable names (Unicode's Jamo.txt).\n")
    for label, names in (("L", JAMO_L), ("V", JAMO_V), ("T", JAMO_T)):
        out.append("constexpr std::string_view kJamo%s[] = {%s};\n" % (label, ", ".join('"%s"' % n for n in names)))
    out.append("\n// Names of the form PREFIX-%04X (matched case-insensitively, like stored names).\n")
    out.append("struct HexNamedFamily {\n  std::string_view prefix;\n  std::size_t first_range;\n"
               "  std::size_t end_range;\n};\n")
    fam_ranges = []
    fam_rows = []
    for prefix, ranges in families:
        fam_rows.append('    {"%s", %d, %d},\n' % (prefix, len(fam_ranges), len(fam_ranges) + len(ranges)))
        fam_ranges.extend(ranges)
    out.append("constexpr HexNamedFamily kHexNamedFamilies[] = {\n" + "".join(fam_rows) + "};\n")
    out.append("constexpr CodePointRange kHexNamedRanges[] = {\n")
    for lo, hi in fam_ranges:
        out.append("    {0x%X, 0x%X},\n" % (lo, hi))
    out.append("};\n\n")
    max_len = max(len(n) for n, _ in entries)
    out.append("// Longest stored name or alias, in bytes.\nconstexpr std::size_t kMaxStoredNameLength = %d;\n"
               % max_len)
    out.append("// Word codes: 1 + r for the first kWordOneSymbol ranks, then two-symbol codes\n"
               "// led by the next kWordTwoSymbolLeads symbols, then three-symbol codes.\n")
    out.append("constexpr int kWordOneSymbol = %d;\nconstexpr int kWordTwoSymbolLeads = %d;\n" % (A, B))
    out.append("constexpr std::size_t kNameCount = %d;\nconstexpr std::size_t kWordCount = %d;\n"
               % (len(entries), n_words))
    out.append("constexpr std::size_t kNameBlockEntries = %d;\n" % BLOCK_ENTRIES)
    out.append("\n// Words by descending frequency, separated by spaces.\n")
    out.append(emit_string_chunks("kWordChunks", word_chunks))
    out.append("\n// Sorted names: chunk << 16 | offset of every block of kNameBlockEntries entries.\n")
    out.append(emit_array("kNameBlocks", blocks))
    out.append(emit_string_chunks("kNameChunks", name_chunks))
    return "".join(out)


# ---------------------------------------------------------------------------
# codec_tables.inc: the codecs of the `encodings` package.


def codec_modules():
    """{module name: kind} for every module of the encodings package that
    codecs.lookup can return on this platform."""
    mods = {}
    for info in sorted(pkgutil.iter_modules(encodings.__path__), key=lambda m: m.name):
        try:
            mod = importlib.import_module("encodings." + info.name)
        except ImportError:  # mbcs and oem exist only on Windows
            continue
        if not hasattr(mod, "getregentry"):
            continue  # encodings.aliases
        entry = mod.getregentry()
        if not entry._is_text_encoding:
            kind = "kNotText"
        elif info.name == "utf_8":
            kind = "kUtf8"
        elif info.name == "utf_8_sig":
            kind = "kUtf8Sig"
        elif hasattr(mod, "decoding_table") or info.name in ("ascii", "latin_1", "charmap"):
            # charmap_decode with a 256-entry table (or the C codecs that are
            # one byte per character: ascii, latin_1, and charmap without a map).
            kind = "kCharmap"
        else:
            kind = "kUnsupported"
        mods[info.name] = kind
    return mods


def charmap_table(module):
    table = []
    for b in range(256):
        try:
            s = bytes([b]).decode(module)
        except UnicodeDecodeError:
            table.append(None)
            continue
        assert len(s) == 1 and ord(s) < 0xFFFF and not 0xD800 <= ord(s) < 0xE000, (module, b)
        table.append(ord(s))
    defined = bytes(b for b in range(256) if table[b] is not None)
    assert defined.decode(module) == "".join(chr(table[b]) for b in defined)
    return table


def tokenizer_normal_name(declared):
    # Model of get_normal_name in CPython's Parser/tokenizer.c: the first 12
    # characters, lower-cased with '_' read as '-', select utf-8 or latin-1.
    buf = ""
    for ch in declared[:12]:
        if ch == "\0":
            break
        buf += "-" if ch == "_" else (ch.lower() if ch.isascii() else ch)
    if buf == "utf-8" or buf.startswith("utf-8-"):
        return "utf-8"
    if buf in ("latin-1", "iso-8859-1", "iso-latin-1") or buf.startswith(("latin-1-", "iso-8859-1-", "iso-latin-1-")):
        return "iso-8859-1"
    return declared


def normalize_codec_name(name):
    # codecs.lookup lower-cases; encodings.normalize_encoding keeps ASCII
    # alphanumerics and '.', and turns each run of anything else between them
    # into one '_'.
    out = []
    punct = False
    for ch in name:
        if ch.isascii() and (ch.isalnum() or ch == "."):
            if punct and out:
                out.append("_")
            out.append(ch.lower())
            punct = False
        else:
            punct = True
    return "".join(out)


def model_canonical(declared, mods):
    n = tokenizer_normal_name(declared)
    if n == "utf-8":
        return "utf_8"
    norm = normalize_codec_name(n)
    aliases = encodings.aliases.aliases
    alias = aliases.get(norm) or aliases.get(norm.replace(".", "_"))
    for m in [alias, norm] if alias else [norm]:
        if m and "." not in m and m in mods:
            return m
    return None


def oracle_cookie(declared):
    """'ok', 'unknown' or 'other' for compile() of a source with this cookie."""
    try:
        compile(("# coding: %s\nx = 1\n" % declared).encode("ascii"), "<golden>", "exec")
        return "ok"
    except SyntaxError as e:
        return "unknown" if "unknown encoding" in str(e) else "other"


def codec_name_samples(mods, rng):
    names = set(mods) | set(encodings.aliases.aliases) | set(encodings.aliases.aliases.values())
    out = set()
    for n in sorted(names):
        out.add(n)
        for _ in range(2):
            v = "".join(ch.upper() if rng.random() < 0.5 else ch for ch in n)
            v = "".join(rng.choice(["_", "-", ".", "__", "-_"]) if ch == "_" else ch for ch in v)
            if rng.random() < 0.2:
                v = rng.choice("-_.") + v
            if rng.random() < 0.2:
                v += rng.choice(["-", "_", ".", "-x", "_1"])
            out.add(v)
    out.update([
        "utf-8-x", "UTF_8_whatever", "Latin-1-q", "iso-latin-1-", "iso-latin-1-x", "iso_8859_1_",
        "iso-8859-1-1", "iso-8859-15", "utf8-sig", "utf--8--sig", "koi8.r", "iso.8859.5", "aliases", "x",
        "...", ".utf8", "utf.8", "utf..8", "u8", "latin.1", "mbcs", "dbcs", "oem", "rot13", "hex",
        "utf-8-sig", "euc-jp", "cp65001", "UTF-8", "utf_8", "UTF8", "latin1", "iso-latin-1-foo-bar-baz",
        "iso-8859-1234", "utf-8123456789012", "tis260",
    ])
    return sorted(v for v in out if v and all(ch.isalnum() or ch in "-_." for ch in v))


def gen_codec_tables(mods):
    charmaps = [m for m in sorted(mods) if mods[m] == "kCharmap"]
    chunk_ids = {}
    pool = []
    charmap_rows = []
    for m in charmaps:
        table = [0xFFFF if v is None else v for v in charmap_table(m)]
        ids = []
        for i in range(0, 256, 32):
            chunk = tuple(table[i : i + 32])
            if chunk not in chunk_ids:
                chunk_ids[chunk] = len(chunk_ids)
                pool.extend(chunk)
            ids.append(chunk_ids[chunk])
        charmap_rows.append(ids)
    charmap_index = {m: i for i, m in enumerate(charmaps)}
    out = [header(
        "Codecs of CPython 3.11's `encodings` package for t2k::codecs (included by\n"
        "// codecs.cc only): module names with their kind, encodings.aliases, and a\n"
        "// 256-entry decoding table (in 32-byte pieces, 0xFFFF = undefined byte) for\n"
        "// every single-byte codec.")]
    out.append("\nconstexpr CodecEntry kCodecs[] = {\n")
    for m in sorted(mods):
        out.append('    {"%s", CodecKind::%s, %d},\n' % (m, mods[m], charmap_index.get(m, 0)))
    out.append("};\n\n// encodings.aliases.aliases, sorted; the value indexes kCodecs.\n")
    out.append("constexpr CodecAlias kCodecAliases[] = {\n")
    mod_index = {m: i for i, m in enumerate(sorted(mods))}
    # codecs.cc retries a failed alias lookup with '.' -> '_'. Python does not
    # retry after a hit on a dropped alias, but that changes nothing while no
    # dropped alias contains '.' (the retry then looks up the same name).
    assert not any("." in a for a, t in encodings.aliases.aliases.items() if t not in mod_index)
    for alias in sorted(encodings.aliases.aliases):
        target = encodings.aliases.aliases[alias]
        # An alias of a module missing here (mbcs) makes the search fall back
        # to the normalised name itself; keeping the row would be wrong.
        if target in mod_index:
            out.append('    {"%s", %d},\n' % (alias, mod_index[target]))
    out.append("};\n\n")
    out.append(emit_array("kCharmapPieces", pool, "std::uint16_t", "0x%04X"))
    out.append("constexpr std::uint16_t kCharmaps[][8] = {\n")
    for ids in charmap_rows:
        out.append("    {%s},\n" % ", ".join(str(i) for i in ids))
    out.append("};\n")
    return "".join(out)


# ---------------------------------------------------------------------------
# tests/data/unicode_golden.txt: a random sample of interpreter answers.


def hexcps(s):
    return " ".join("%X" % ord(ch) for ch in s)


def float_bits(v):
    return "%016X" % struct.unpack("<Q", struct.pack("<d", v))[0]


def gen_golden(mods):
    rng = random.Random(20231114)
    lines = [
        "# Generated by `%s` from CPython 3.11 (Unicode 14.0.0); do not edit." % COMMAND,
        "# A random sample of interpreter answers checked by tests/cpp/*_test.cc.",
        "# Tab-separated; code points and bytes in hex. Kinds:",
        "#   cp     CP FLAGS(isidentifier,'a'+c isidentifier,isprintable) repr(chr(CP)) NFKC(chr(CP)) or =",
        "#   nfkc   IN OUT                      unicodedata.normalize('NFKC', IN)",
        "#   str    IN repr(IN)",
        "#   bytes  IN repr(IN)",
        "#   name   QUERY CP or -               eval('\"\\\\N{QUERY}\"')",
        "#   float  BITS repr(x) repr(complex(0.0, x))",
        "#   flit   LITERAL BITS                float literal",
        "#   ilit   LITERAL DECIMAL             int literal",
        "#   codec  DECLARED CANONICAL or -     PEP 263 cookie -> codec module",
        "#   decode CODEC BYTES ok UTF8 | err OFFSET",
    ]
    # Code points: half uniform over everything, half over the populated planes.
    cps = [rng.randrange(N_CP) for _ in range(10000)]
    cps += [rng.choice([rng.randrange(0x40000), rng.randrange(0xE0000, 0xE0200), rng.randrange(0x3000)])
            for _ in range(10000)]
    for c in cps:
        ch = chr(c)
        flags = "%d%d%d" % (ch.isidentifier(), ("a" + ch).isidentifier(), ch.isprintable())
        n = unicodedata.normalize("NFKC", ch)
        lines.append("cp\t%X\t%s\t%s\t%s" % (c, flags, repr(ch), "=" if n == ch else hexcps(n)))

    # NFKC of strings drawn mostly from characters that take part in
    # normalisation: mapped, combining, composing, Hangul jamo and syllables.
    interesting = set()
    for c in range(N_CP):
        ch = chr(c)
        if unicodedata.combining(ch) or unicodedata.decomposition(ch):
            interesting.add(c)
    for c in range(N_CP):
        d = unicodedata.decomposition(chr(c))
        if d and not d.startswith("<"):
            interesting.update(int(x, 16) for x in d.split())
    interesting.update(range(L_BASE, L_BASE + L_COUNT))
    interesting.update(range(V_BASE, V_BASE + V_COUNT))
    interesting.update(range(T_BASE + 1, T_BASE + T_COUNT))
    interesting = sorted(interesting)
    for _ in range(2000):
        s = "".join(
            chr(rng.choice(interesting) if rng.random() < 0.8
                else rng.choice([rng.randrange(0x80), rng.randrange(S_BASE, S_BASE + S_COUNT), rng.randrange(N_CP)]))
            for _ in range(rng.randrange(1, 9))
        )
        lines.append("nfkc\t%s\t%s" % (hexcps(s), hexcps(unicodedata.normalize("NFKC", s))))

    pool = "'\"\\\n\t\r\x00\x1f\x7f\x80\x9f\xa0\xad\xff\u0100\u0378\u2028\ud800\udfff\ufeff\uffff" \
           "\U00010000\U0001F600\U000E0001\U0010FFFF abc"
    for _ in range(1000):
        s = "".join(rng.choice(pool) if rng.random() < 0.7 else chr(rng.randrange(N_CP))
                    for _ in range(rng.randrange(0, 7)))
        lines.append("str\t%s\t%s" % (hexcps(s), repr(s)))
    for _ in range(500):
        b = bytes(rng.choice(b"'\"\\\n\t\r\x00\x7f\x80\xffab ") if rng.random() < 0.6 else rng.randrange(256)
                  for _ in range(rng.randrange(0, 7)))
        lines.append("bytes\t%s\t%s" % (b.hex().upper(), repr(b)))

    # Names: stored names and aliases in random case, algorithmic names (which
    # are case-sensitive), hex families, and near misses.
    cjk_ranges, families, entries = collect_names()
    queries = []
    for _ in range(800):
        n, _ = rng.choice(entries)
        queries.append("".join(ch.lower() if rng.random() < 0.3 else ch for ch in n))
    for _ in range(300):
        lo, hi = rng.choice(cjk_ranges)
        v = rng.randint(lo, hi)
        f = rng.choice(["%04X", "%05X", "%04x", "%06X"])
        queries.append(rng.choice([CJK_PREFIX, CJK_PREFIX, CJK_PREFIX.lower()]) + f % v)
    for _ in range(300):
        n = hangul_name(rng.randrange(S_BASE, S_BASE + S_COUNT))
        queries.append(n if rng.random() < 0.8 else n.lower())
    for _ in range(200):
        prefix, ranges = rng.choice(families)
        lo, hi = rng.choice(ranges)
        v = rng.randint(lo - 2, hi + 2)
        queries.append("".join(ch.lower() if rng.random() < 0.3 else ch for ch in "%s-%04X" % (prefix, v)))
    for _ in range(400):
        n, _ = rng.choice(entries)
        i = rng.randrange(len(n))
        queries.append(rng.choice([n[:i] + n[i + 1 :], n[:i] + rng.choice("AZ -") + n[i:], n + " ", " " + n]))
    queries.extend(NAMED_SEQUENCES)
    for q in queries:
        c = escape_n(q)
        lines.append("name\t%s\t%s" % (q, "-" if c is None else "%X" % c))

    # Floats: random bit patterns, short decimals, and the exponent-rule edges.
    floats = [struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))[0] for _ in range(800)]
    for _ in range(1000):
        digits = str(rng.randrange(1, 10 ** rng.randrange(1, 18)))
        floats.append(float("%se%d" % (digits, rng.randrange(-30, 30))))
    for e in range(-8, 20):
        floats += [10.0 ** e, 1.5 * 10.0 ** e, -(10.0 ** e), 9.999999999999999 * 10.0 ** e]
    floats += [0.0, -0.0, float("inf"), float("-inf"), float("nan"), 5e-324, 1.7976931348623157e308,
               2.2250738585072014e-308, 0.1, 123456789012345678.0]
    for v in floats:
        lines.append("float\t%s\t%s\t%s" % (float_bits(v), repr(v), repr(complex(0.0, v))))
    for _ in range(600):
        lit = "".join(rng.choice("0123456789") for _ in range(rng.randrange(0, 25)))
        if rng.random() < 0.6:
            i = rng.randrange(len(lit) + 1)
            lit = lit[:i] + "." + lit[i:]
        if not lit.strip("."):
            lit = "0" + lit
        if rng.random() < 0.5 or "." not in lit:
            lit += rng.choice("eE") + rng.choice(["", "+", "-"]) + str(rng.randrange(0, 400))
        if rng.random() < 0.3:  # underscores between digits
            lit = re.sub(r"(?<=\d)(?=\d)", lambda m: "_" if rng.random() < 0.2 else "", lit)
        lines.append("flit\t%s\t%s" % (lit, float_bits(eval(lit))))
    for _ in range(400):
        base = rng.choice([10, 16, 8, 2])
        n = rng.getrandbits(rng.randrange(1, 300))
        body = {10: "%d", 16: "%x", 8: "%o", 2: "{:b}"}[base]
        body = body.format(n) if base == 2 else body % n
        if base == 16 and rng.random() < 0.5:
            body = body.upper()
        body = re.sub(r"(?<=\w)(?=\w)", lambda m: "_" if rng.random() < 0.1 else "", body)
        prefix = {10: "", 16: rng.choice(["0x", "0X"]), 8: rng.choice(["0o", "0O"]), 2: rng.choice(["0b", "0B"])}
        lit = prefix[base] + ("_" if base != 10 and rng.random() < 0.2 else "") + body
        if base == 10 and n != 0 and body.startswith("0"):
            continue
        lines.append("ilit\t%s\t%d" % (lit, eval(lit)))
    for lit in ["0", "00", "0_0", "000", "0x0", "0b1", "0O17", "0XFF"]:
        lines.append("ilit\t%s\t%d" % (lit, eval(lit)))

    # Codec names: the model of the tokenizer and codec search must agree
    # with compile() itself before its answers are recorded.
    for declared in codec_name_samples(mods, rng):
        canonical = model_canonical(declared, mods)
        outcome = oracle_cookie(declared)
        if canonical is None:
            assert outcome == "unknown", declared
        else:
            assert outcome != "unknown", declared
            assert codecs.lookup(tokenizer_normal_name(declared)).name == codecs.lookup(canonical).name
            if mods[canonical] == "kNotText":
                assert outcome == "other", declared
        lines.append("codec\t%s\t%s" % (declared, canonical or "-"))
    for m in sorted(mods):
        if mods[m] not in ("kCharmap", "kUtf8", "kUtf8Sig"):
            continue
        for _ in range(6 if mods[m] == "kCharmap" else 200):
            if mods[m] == "kCharmap":
                b = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 12)))
            else:
                s = "".join(chr(rng.choice([rng.randrange(0x80), rng.randrange(0x800), rng.randrange(0x10000),
                                            rng.randrange(0x10000, N_CP)])) for _ in range(rng.randrange(0, 6)))
                b = bytearray(s.encode("utf-8", "surrogatepass"))
                if rng.random() < 0.1:
                    b = bytearray(b"\xef\xbb\xbf") + b
                for _ in range(rng.choice([0, 0, 1, 2])):
                    if b:
                        b[rng.randrange(len(b))] = rng.randrange(256)
                b = bytes(b)
            try:
                result = "ok\t" + b.decode(m).encode("utf-8").hex().upper()
            except UnicodeDecodeError as e:
                # utf_8_sig reports offsets past its BOM; record offsets into b.
                bom = 3 if m == "utf_8_sig" and b.startswith(codecs.BOM_UTF8) else 0
                result = "err\t%d" % (e.start + bom)
            lines.append("decode\t%s\t%s\t%s" % (m, b.hex().upper(), result))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="regenerate into memory and exit 1 if a committed file differs")
    args = parser.parse_args()
    check_interpreter()
    mods = codec_modules()
    outputs = {
        "src/torch2keras/base/unicode_data.inc": gen_unicode_data(),
        "src/torch2keras/base/unicode_names.inc": gen_unicode_names(),
        "src/torch2keras/base/codec_tables.inc": gen_codec_tables(mods),
        "tests/data/unicode_golden.txt": gen_golden(mods),
    }
    stale = []
    for rel, text in outputs.items():
        path = os.path.join(ROOT, rel)
        old = None
        if os.path.exists(path):
            with open(path, encoding="utf-8", newline="") as f:
                old = f.read()
        if old == text:
            continue
        if args.check:
            stale.append(rel)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8", newline="\n") as f:
                f.write(text)
            print("wrote %s (%d bytes)" % (rel, len(text.encode("utf-8"))))
    if stale:
        print("out of date (run `%s`): %s" % (COMMAND, ", ".join(stale)), file=sys.stderr)
        return 1
    if args.check:
        print("all generated files are up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
