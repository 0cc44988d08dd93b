// Diagnostic codes and rendering; see diagnostic.h.
#include "torch2keras/diag/diagnostic.h"

#include "torch2keras/base/unicode.h"

namespace t2k::diag {

const char* code(Kind kind) {
  static constexpr const char* kCodes[] = {
#define T2K_DIAGNOSTIC(name, code, severity, summary) code,
#include "torch2keras/diag/diagnostic_kinds.def"
  };
  return kCodes[static_cast<int>(kind)];
}

Severity default_severity(Kind kind) {
  static constexpr Severity kSeverities[] = {
#define T2K_DIAGNOSTIC(name, code, severity, summary) Severity::severity,
#include "torch2keras/diag/diagnostic_kinds.def"
  };
  return kSeverities[static_cast<int>(kind)];
}

const char* severity_name(Severity severity) {
  switch (severity) {
    case Severity::Error: return "error";
    case Severity::Warning: return "warning";
    case Severity::Note: return "note";
  }
  return "error";
}

Diagnostic from_syntax_error(const syntax::SyntaxError& error, std::string_view filename) {
  Kind kind = Kind::SyntaxError;
  switch (error.kind) {
    case syntax::SyntaxError::Kind::SyntaxError:
      kind = error.lineno == 0 ? Kind::EncodingError : Kind::SyntaxError;
      break;
    case syntax::SyntaxError::Kind::IndentationError: kind = Kind::IndentationError; break;
    case syntax::SyntaxError::Kind::TabError: kind = Kind::TabError; break;
    case syntax::SyntaxError::Kind::RecursionError: kind = Kind::TooDeeplyNested; break;
  }
  Diagnostic d;
  d.kind = kind;
  d.severity = default_severity(kind);
  d.message = error.message;
  d.filename = std::string(filename);
  d.lineno = error.lineno;
  d.col_offset = error.col_offset;
  d.end_lineno = error.end_lineno;
  d.end_col_offset = error.end_col_offset;
  return d;
}

namespace {

// The `lineno`-th line of `source` (1-based), without its newline.
std::string_view line_of(std::string_view source, int32_t lineno) {
  std::size_t start = 0;
  for (int32_t i = 1; i < lineno; ++i) {
    std::size_t nl = source.find('\n', start);
    if (nl == std::string_view::npos) return {};
    start = nl + 1;
  }
  if (start >= source.size()) return {};
  std::size_t end = source.find('\n', start);
  if (end == std::string_view::npos) end = source.size();
  return source.substr(start, end - start);
}

// Characters (UTF-8 lead bytes) in the first `bytes` bytes of `line`.
int32_t chars_before(std::string_view line, int32_t bytes) {
  int32_t n = 0;
  for (int32_t i = 0; i < bytes && static_cast<std::size_t>(i) < line.size(); ++i)
    if ((static_cast<unsigned char>(line[i]) & 0xC0) != 0x80) ++n;
  return n;
}

}  // namespace

std::string render(const Diagnostic& d, std::string_view source) {
  std::string out = d.filename;
  std::string_view line = d.lineno > 0 ? line_of(source, d.lineno) : std::string_view{};
  if (d.lineno > 0) {
    out += ':' + std::to_string(d.lineno);
    if (d.col_offset >= 0) out += ':' + std::to_string(chars_before(line, d.col_offset) + 1);
  }
  out += ": ";
  out += severity_name(d.severity);
  out += ": ";
  out += d.message;
  out += " [";
  out += code(d.kind);
  out += "]\n";
  if (!line.empty() && d.col_offset >= 0) {
    out += "    ";
    // The line may hold bytes that are not UTF-8 (the error may be about them);
    // the rendering must stay valid UTF-8, so those show as U+FFFD.
    for (std::size_t i = 0; i < line.size();) {
      std::size_t from = i;
      if (unicode::decode_utf8(line, i)) {
        out.append(line.substr(from, i - from));
      } else {
        out += "\xEF\xBF\xBD";
        i = from + 1;
      }
    }
    out += "\n    ";
    // The caret line keeps the tabs of the source line so it lines up.
    int32_t width = chars_before(line, d.col_offset);
    int32_t seen = 0;
    for (std::size_t i = 0; i < line.size() && seen < width; ++i) {
      if ((static_cast<unsigned char>(line[i]) & 0xC0) == 0x80) continue;
      out += line[i] == '\t' ? '\t' : ' ';
      ++seen;
    }
    int32_t carets = 1;
    if (d.end_lineno == d.lineno && d.end_col_offset > d.col_offset) {
      carets = chars_before(line, d.end_col_offset) - width;
      if (carets < 1) carets = 1;
    }
    out.append(static_cast<std::size_t>(carets), '^');
    out += '\n';
  }
  return out;
}

}  // namespace t2k::diag
