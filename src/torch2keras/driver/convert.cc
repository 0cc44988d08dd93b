// The conversion driver (see convert.h).
#include "torch2keras/driver/convert.h"

#include "torch2keras/analysis/classes.h"
#include "torch2keras/analysis/imports.h"
#include "torch2keras/catalog/catalog.h"
#include "torch2keras/emit/module_emitter.h"
#include "torch2keras/lowering/lower.h"
#include "torch2keras/syntax/parser.h"

namespace t2k::driver {

bool ConvertResult::ok() const {
  for (const diag::Diagnostic& d : diagnostics)
    if (d.severity == diag::Severity::Error) return false;
  return true;
}

ConvertResult convert_source(std::string_view bytes, const ConvertOptions& options) {
  ConvertResult result;
  syntax::ParseOptions parse_options;
  parse_options.source_is_text = options.source_is_text;
  auto parsed = syntax::parse_source(bytes, parse_options);
  result.source_text = parsed->text;
  if (parsed->error) {
    result.diagnostics.push_back(diag::from_syntax_error(*parsed->error, options.filename));
    return result;
  }
  auto* module = static_cast<ast::Module*>(parsed->tree);

  std::string name = options.filename;
  if (auto slash = name.find_last_of('/'); slash != std::string::npos) name = name.substr(slash + 1);
  std::string stem = name.ends_with(".py") ? name.substr(0, name.size() - 3) : name;
  analysis::ModuleLocation location{stem, false};
  analysis::ImportScope scope(module->body, location);
  std::vector<analysis::ClassInfo> classes = analysis::find_classes(module, scope, stem);

  Arena arena;
  lowering::Builder builder(arena);
  lowering::LowerOptions lower_options{options.channels_last, options.io_torch, options.filename};
  lowering::LowerOutput lowered = lowering::lower_module(module, scope, classes, builder, lower_options);
  result.diagnostics = std::move(lowered.diagnostics);
  if (!result.ok()) return result;

  emit::EmitInput in{name, options.channels_last, options.io_torch, &parsed->comments};
  result.code = emit::emit_module(lowered, builder, in);
  return result;
}

}  // namespace t2k::driver
