// Escape decoding for string and bytes literals; see string_literal.h.
#include "torch2keras/syntax/string_literal.h"

#include <cstdio>

#include "torch2keras/base/unicode.h"

namespace t2k::syntax {

StringToken split_string_token(std::string_view text) {
  StringToken s;
  std::size_t i = 0;
  while (i < text.size() && text[i] != '\'' && text[i] != '"') {
    switch (text[i]) {
      case 'b': case 'B': s.bytes = true; break;
      case 'r': case 'R': s.raw = true; break;
      case 'f': case 'F': s.fstring = true; break;
      case 'u': case 'U': s.u = true; break;
      default: break;
    }
    ++i;
  }
  s.prefix_size = i;
  char quote = text[i];
  s.quote_size = (text.size() - i >= 6 && text[i + 1] == quote && text[i + 2] == quote) ? 3 : 1;
  std::size_t open = i + static_cast<std::size_t>(s.quote_size);
  s.body = text.substr(open, text.size() - open - static_cast<std::size_t>(s.quote_size));
  return s;
}

namespace {

// The character of a one-letter escape shared by str and bytes literals
// (\\ \' \" \a \b \f \n \r \t \v).
char simple_escape(char e) {
  switch (e) {
    case 'a': return '\a';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'v': return '\v';
    default: return e;  // \\, \', \"
  }
}

int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

// CPython's UnicodeDecodeError text for strict UTF-8 decoding of `body`, whose
// first bad sequence starts at `at`.
std::string utf8_error(std::string_view body, std::size_t at) {
  unsigned char c = static_cast<unsigned char>(body[at]);
  const char* reason = "invalid start byte";
  std::size_t need = 0;
  if (c >= 0xC2 && c <= 0xDF) need = 1;
  else if (c >= 0xE0 && c <= 0xEF) need = 2;
  else if (c >= 0xF0 && c <= 0xF4) need = 3;
  std::size_t end = at + 1;
  if (need != 0) {
    reason = "invalid continuation byte";
    // Count the valid continuation bytes, with the range checks of the second byte.
    for (std::size_t k = 1; k <= need; ++k) {
      if (at + k >= body.size()) {
        reason = "unexpected end of data";
        end = body.size();
        break;
      }
      unsigned char d = static_cast<unsigned char>(body[at + k]);
      bool ok = (d & 0xC0) == 0x80;
      if (k == 1) {
        if (c == 0xE0) ok = d >= 0xA0 && d <= 0xBF;
        if (c == 0xED) ok = d >= 0x80 && d <= 0x9F;
        if (c == 0xF0) ok = d >= 0x90 && d <= 0xBF;
        if (c == 0xF4) ok = d >= 0x80 && d <= 0x8F;
      }
      if (!ok) {
        end = at + k;
        break;
      }
    }
  }
  char buffer[160];
  if (end - at <= 1) {
    std::snprintf(buffer, sizeof buffer,
                  "(unicode error) 'utf-8' codec can't decode byte 0x%02x in position %zu: %s", c,
                  at, reason);
  } else {
    std::snprintf(buffer, sizeof buffer,
                  "(unicode error) 'utf-8' codec can't decode bytes in position %zu-%zu: %s", at,
                  end - 1, reason);
  }
  return buffer;
}

namespace {

std::string escape_error(std::size_t start, std::size_t end, const char* message) {
  char buffer[200];
  if (end - start == 1) {
    std::snprintf(buffer, sizeof buffer,
                  "(unicode error) 'unicodeescape' codec can't decode byte 0x5c in position %zu: %s",
                  start, message);
  } else {
    std::snprintf(buffer, sizeof buffer,
                  "(unicode error) 'unicodeescape' codec can't decode bytes in position %zu-%zu: %s",
                  start, end - 1, message);
  }
  return buffer;
}

}  // namespace

bool decode_str(std::string_view body, bool raw, std::string& out, std::string& error) {
  out.clear();
  out.reserve(body.size());
  // CPython decodes the body as UTF-8 first; a raw body is then done.
  for (std::size_t i = 0; i < body.size();) {
    if (static_cast<unsigned char>(body[i]) < 0x80) {
      ++i;
      continue;
    }
    std::size_t at = i;
    if (!unicode::decode_utf8(body, i)) {
      error = utf8_error(body, at);
      return false;
    }
  }
  if (raw || body.find('\\') == std::string_view::npos) {
    out.assign(body);
    return true;
  }
  // Escape processing. `tpos` tracks the position in CPython's intermediate
  // buffer (non-ASCII characters spelled as 10-byte \U escapes), which is what
  // its error messages count.
  std::size_t tpos = 0;
  std::size_t i = 0;
  while (i < body.size()) {
    unsigned char c = static_cast<unsigned char>(body[i]);
    if (c != '\\') {
      std::size_t from = i;
      if (c < 0x80) {
        ++i;
        ++tpos;
      } else {
        unicode::decode_utf8(body, i);
        tpos += 10;
      }
      out.append(body.substr(from, i - from));
      continue;
    }
    std::size_t start = tpos;
    ++i;
    if (i >= body.size() || static_cast<unsigned char>(body[i]) >= 0x80) {
      // A backslash at the end, or before a non-ASCII character, stays.
      out += '\\';
      tpos += 6;
      continue;
    }
    char e = body[i++];
    tpos += 2;
    switch (e) {
      case '\n': break;  // backslash-newline: a line continuation inside the literal
      case '\\': case '\'': case '"': case 'a': case 'b': case 'f': case 'n': case 'r':
      case 't': case 'v': out += simple_escape(e); break;
      case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
        char32_t value = static_cast<char32_t>(e - '0');
        for (int k = 0; k < 2 && i < body.size() && body[i] >= '0' && body[i] <= '7'; ++k) {
          value = value * 8 + static_cast<char32_t>(body[i++] - '0');
          ++tpos;
        }
        unicode::append_utf8(out, value);
        break;
      }
      case 'x':
      case 'u':
      case 'U': {
        int count = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        const char* message = e == 'x'   ? "truncated \\xXX escape"
                              : e == 'u' ? "truncated \\uXXXX escape"
                                         : "truncated \\UXXXXXXXX escape";
        char32_t value = 0;
        for (int k = 0; k < count; ++k) {
          int d = i < body.size() ? hex_value(static_cast<unsigned char>(body[i])) : -1;
          if (d < 0) {
            error = escape_error(start, tpos, message);
            return false;
          }
          value = value * 16 + static_cast<char32_t>(d);
          ++i;
          ++tpos;
        }
        if (value > 0x10FFFF) {
          error = escape_error(start, tpos, "illegal Unicode character");
          return false;
        }
        unicode::append_utf8(out, value);
        break;
      }
      case 'N': {
        const char* malformed = "malformed \\N character escape";
        if (i >= body.size() || body[i] != '{') {
          error = escape_error(start, tpos, malformed);
          return false;
        }
        ++i;
        ++tpos;
        std::size_t name_start = i;
        while (i < body.size() && body[i] != '}') {
          // Non-ASCII inside the name counts 10 in CPython's buffer.
          if (static_cast<unsigned char>(body[i]) >= 0x80) {
            unicode::decode_utf8(body, i);
            tpos += 10;
          } else {
            ++i;
            ++tpos;
          }
        }
        if (i >= body.size() || i == name_start) {
          error = escape_error(start, tpos, malformed);
          return false;
        }
        std::string_view name = body.substr(name_start, i - name_start);
        ++i;
        ++tpos;
        std::optional<char32_t> value = unicode::lookup_name(name);
        if (!value) {
          error = escape_error(start, tpos, "unknown Unicode character name");
          return false;
        }
        unicode::append_utf8(out, *value);
        break;
      }
      default:
        // An invalid escape such as "\d" is kept (a DeprecationWarning in 3.11).
        out += '\\';
        out += e;
        break;
    }
  }
  return true;
}

bool decode_bytes(std::string_view body, bool raw, std::string& out, std::string& error) {
  out.clear();
  for (char c : body) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      error = "bytes can only contain ASCII literal characters";
      return false;
    }
  }
  if (raw || body.find('\\') == std::string_view::npos) {
    out.assign(body);
    return true;
  }
  std::size_t i = 0;
  while (i < body.size()) {
    char c = body[i++];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (i >= body.size()) {
      error = "(value error) Trailing \\ in string";
      return false;
    }
    char e = body[i++];
    switch (e) {
      case '\n': break;  // backslash-newline: a line continuation inside the literal
      case '\\': case '\'': case '"': case 'a': case 'b': case 'f': case 'n': case 'r':
      case 't': case 'v': out += simple_escape(e); break;
      case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': {
        unsigned value = static_cast<unsigned>(e - '0');
        for (int k = 0; k < 2 && i < body.size() && body[i] >= '0' && body[i] <= '7'; ++k)
          value = value * 8 + static_cast<unsigned>(body[i++] - '0');
        out += static_cast<char>(value & 0xFF);  // CPython truncates (with a warning)
        break;
      }
      case 'x': {
        int d1 = i < body.size() ? hex_value(static_cast<unsigned char>(body[i])) : -1;
        int d2 = i + 1 < body.size() ? hex_value(static_cast<unsigned char>(body[i + 1])) : -1;
        if (d1 < 0 || d2 < 0) {
          error = "(value error) invalid \\x escape at position " + std::to_string(i - 2);
          return false;
        }
        out += static_cast<char>(d1 * 16 + d2);
        i += 2;
        break;
      }
      default:
        out += '\\';
        out += e;
        break;
    }
  }
  return true;
}

}  // namespace t2k::syntax
