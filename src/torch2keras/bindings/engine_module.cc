// torch2keras._engine: the C++ engine as a Python extension (nanobind).
//
// Thin by design: each function takes bytes and options, runs the engine with the
// GIL released, and returns plain Python values. Errors come back as data
// (a dict), and the Python package turns them into exceptions or diagnostics.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <string>
#include <string_view>

#include "torch2keras/diag/diagnostic.h"
#include "torch2keras/driver/convert.h"
#include "torch2keras/syntax/ast_dump.h"
#include "torch2keras/syntax/parser.h"
#include "torch2keras/syntax/unparse.h"

namespace nb = nanobind;

namespace {

t2k::syntax::Mode parse_mode(const std::string& mode) {
  if (mode == "exec") return t2k::syntax::Mode::Exec;
  if (mode == "eval") return t2k::syntax::Mode::Eval;
  if (mode == "single") return t2k::syntax::Mode::Single;
  if (mode == "func_type") return t2k::syntax::Mode::FuncType;
  throw nb::value_error("mode must be 'exec', 'eval', 'single' or 'func_type'");
}

int parse_minor(int minor) {
  if (minor != 11 && minor != 12) throw nb::value_error("python must be 3.11 or 3.12");
  return minor;
}

nb::dict error_dict(const t2k::syntax::ParsedSource& parsed, const std::string& filename) {
  const t2k::syntax::SyntaxError& e = *parsed.error;
  t2k::diag::Diagnostic d = t2k::diag::from_syntax_error(e, filename);
  nb::dict out;
  out["kind"] = t2k::syntax::kind_name(e.kind);
  out["code"] = t2k::diag::code(d.kind);
  out["message"] = e.message;
  out["lineno"] = e.lineno;
  out["col_offset"] = e.col_offset;
  out["end_lineno"] = e.end_lineno;
  out["end_col_offset"] = e.end_col_offset;
  out["rendered"] = t2k::diag::render(d, parsed.text);
  return out;
}

// Parses `source` and, if it parses, turns the tree into text with `produce`
// (without the GIL). Returns (text, None), or (None, error) for a syntax error.
template <class Produce>
nb::tuple parse_then(nb::bytes source, const std::string& filename,
                     const t2k::syntax::ParseOptions& options, Produce produce) {
  std::string_view bytes(source.c_str(), source.size());
  std::unique_ptr<t2k::syntax::ParsedSource> parsed;
  std::string out;
  {
    nb::gil_scoped_release release;
    parsed = t2k::syntax::parse_source(bytes, options);
    if (!parsed->error) out = produce(*parsed);
  }
  if (parsed->error) return nb::make_tuple(nb::none(), error_dict(*parsed, filename));
  return nb::make_tuple(nb::str(out.data(), out.size()), nb::none());
}

nb::tuple dump_ast(nb::bytes source, const std::string& filename, bool include_attributes,
                   int minor, const std::string& mode, bool is_text) {
  t2k::syntax::ParseOptions options;
  options.source_is_text = is_text;
  options.minor = parse_minor(minor);
  options.mode = parse_mode(mode);
  options.keep_comments = false;
  return parse_then(source, filename, options, [&](const t2k::syntax::ParsedSource& parsed) {
    t2k::syntax::DumpOptions dump_options;
    dump_options.include_attributes = include_attributes;
    dump_options.minor = minor;
    std::string out;
    t2k::syntax::dump_ast(out, parsed.tree, dump_options);
    return out;
  });
}

// Parses and prints the tree back as source, comments kept.
nb::tuple unparse(nb::bytes source, const std::string& filename, int minor, bool is_text) {
  t2k::syntax::ParseOptions options;
  options.source_is_text = is_text;
  options.minor = parse_minor(minor);
  return parse_then(source, filename, options, [&](const t2k::syntax::ParsedSource& parsed) {
    t2k::syntax::UnparseOptions unparse_options;
    unparse_options.comments = &parsed.comments;
    unparse_options.minor = minor;
    return t2k::syntax::unparse(parsed.tree, unparse_options);
  });
}

// Parses without producing output (benchmarks); returns True if it parsed.
bool parse_check(nb::bytes source, int minor) {
  t2k::syntax::ParseOptions options;
  options.minor = parse_minor(minor);
  options.keep_comments = false;
  std::string_view bytes(source.c_str(), source.size());
  nb::gil_scoped_release release;
  return !t2k::syntax::parse_source(bytes, options)->error.has_value();
}

// Converts one file. Returns (code, diagnostics): code is "" when there are
// errors; each diagnostic is a dict (severity, code, message, lineno, col, rendered).
nb::tuple convert(nb::bytes source, const std::string& filename, const std::string& layout,
                  const std::string& io_layout, bool is_text, const std::vector<std::string>& package_files,
                  bool explain_layout) {
  if (layout != "channels_last" && layout != "channels_first")
    throw nb::value_error("layout must be 'channels_last' or 'channels_first'");
  if (io_layout != "torch" && io_layout != "keras")
    throw nb::value_error("io_layout must be 'torch' or 'keras'");
  t2k::driver::ConvertOptions options;
  options.channels_last = layout == "channels_last";
  options.io_torch = io_layout == "torch";
  options.source_is_text = is_text;
  options.filename = filename;
  options.package_files = package_files;
  options.explain_layout = explain_layout;
  t2k::driver::ConvertResult result;
  {
    std::string_view bytes(source.c_str(), source.size());
    nb::gil_scoped_release release;
    result = t2k::driver::convert_source(bytes, options);
  }
  nb::list diagnostics;
  for (const t2k::diag::Diagnostic& d : result.diagnostics) {
    nb::dict item;
    item["severity"] = t2k::diag::severity_name(d.severity);
    item["code"] = t2k::diag::code(d.kind);
    item["message"] = d.message;
    item["lineno"] = d.lineno;
    std::string rendered = t2k::diag::render(d, result.source_text);
    // The rendered header's column is 1-based characters.
    int col = 0;
    std::size_t colon1 = rendered.find(':', filename.size());
    if (colon1 != std::string::npos) {
      std::size_t colon2 = rendered.find(':', colon1 + 1);
      std::size_t colon3 = colon2 == std::string::npos ? colon2 : rendered.find(':', colon2 + 1);
      if (colon3 != std::string::npos && d.col_offset >= 0)
        col = std::atoi(rendered.substr(colon2 + 1, colon3 - colon2 - 1).c_str());
    }
    item["col"] = col;
    item["rendered"] = rendered;
    diagnostics.append(item);
  }
  return nb::make_tuple(nb::str(result.code.data(), result.code.size()), diagnostics);
}

}  // namespace

NB_MODULE(_engine, m) {
  m.doc() = "The torch2keras C++ engine.";
  m.def("dump_ast", &dump_ast, nb::arg("source"), nb::arg("filename") = "<unknown>",
        nb::arg("include_attributes") = false, nb::arg("minor") = 11,
        nb::arg("mode") = "exec", nb::arg("is_text") = false,
        "ast.dump() of `source` as CPython 3.<minor> would print it: (text, None), or "
        "(None, error) for a syntax error.");
  m.def("unparse", &unparse, nb::arg("source"), nb::arg("filename") = "<unknown>",
        nb::arg("minor") = 11, nb::arg("is_text") = false,
        "`source` parsed and printed back (comments kept): (text, None), or (None, error).");
  m.def("convert", &convert, nb::arg("source"), nb::arg("filename") = "<string>",
        nb::arg("layout") = "channels_last", nb::arg("io_layout") = "torch",
        nb::arg("is_text") = false, nb::arg("package_files") = std::vector<std::string>{},
        nb::arg("explain_layout") = false,
        "Converts PyTorch model source to a Keras 3 module: (code, diagnostics).");
  m.def("parse_check", &parse_check, nb::arg("source"), nb::arg("minor") = 11,
        "Parses `source`; True if it is valid Python 3.<minor>.");
}
