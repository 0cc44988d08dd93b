// The conversion driver (see convert.h).
#include "torch2keras/driver/convert.h"

#include <set>
#include <utility>
#include <vector>

#include "torch2keras/analysis/classes.h"
#include "torch2keras/analysis/imports.h"
#include "torch2keras/analysis/package.h"
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

  Arena arena;
  // What the input imports from its own package comes first, as if written here.
  analysis::LinkedModule linked;
  if (options.link_package && options.filename != "<string>") {
    const catalog::Catalog& known = catalog::Catalog::instance();
    linked = analysis::link_package(module, options.filename,
                                    [&known](std::string_view path) { return known.knows_path(path); });
  }
  for (const std::string& problem : linked.problems) {
    diag::Diagnostic d;
    d.kind = diag::Kind::UnsupportedConstruct;
    d.severity = diag::Severity::Warning;
    d.filename = options.filename;
    d.message = "package linking: " + problem;
    result.diagnostics.push_back(std::move(d));
  }
  if (!linked.dotted_name.empty()) location = {linked.dotted_name, linked.is_package};
  if (!linked.definitions.empty()) {
    std::vector<ast::StmtNode*> body(linked.imports.begin(), linked.imports.end());
    for (const analysis::PulledDefinition& d : linked.definitions) body.push_back(d.stmt);
    for (ast::StmtNode* s : module->body) {
      // Imports of linked names are now definitions of this module.
      if (auto* from = ast::as<ast::ImportFrom>(s)) {
        std::vector<ast::Alias*> kept;
        for (ast::Alias* a : from->names)
          if (!linked.linked_names.count(std::string(a->asname.data() ? a->asname : a->name))) kept.push_back(a);
        if (kept.empty()) continue;
        if (kept.size() != from->names.size()) {
          auto* copy = arena.make<ast::ImportFrom>(*from);
          copy->names = ast::Seq<ast::Alias*>(arena.copy(std::span<ast::Alias* const>(kept.data(), kept.size())));
          body.push_back(copy);
          continue;
        }
      }
      body.push_back(s);
    }
    auto* combined = arena.make<ast::Module>(*module);
    combined->body = ast::Seq<ast::StmtNode*>(arena.copy(std::span<ast::StmtNode* const>(body.data(), body.size())));
    module = combined;
  }
  analysis::ImportScope scope(module->body, location);
  std::vector<analysis::ClassInfo> classes = analysis::find_classes(module, scope, location.dotted_name);

  lowering::Builder builder(arena);
  lowering::LowerOptions lower_options{options.channels_last, options.io_torch, options.filename};
  lowering::LowerOutput lowered = lowering::lower_module(module, scope, classes, builder, lower_options);
  for (diag::Diagnostic& d : lowered.diagnostics) result.diagnostics.push_back(std::move(d));
  if (!result.ok()) return result;

  // Comments inside input statements that were left out go with them.
  std::set<int> kept_lines;
  for (const ast::StmtNode* s : lowered.body) kept_lines.insert(s->loc.lineno);
  std::vector<std::pair<int, int>> left_out = lowered.left_out;
  for (const ast::StmtNode* s : static_cast<const ast::Module*>(parsed->tree)->body)
    if (s->loc.lineno > 0 && !kept_lines.count(s->loc.lineno)) left_out.emplace_back(s->loc.lineno, s->loc.end_lineno);
  std::vector<syntax::Comment> comments;
  for (const syntax::Comment& c : parsed->comments) {
    bool inside = false;
    for (auto [first, last] : left_out) inside = inside || (c.lineno > first && c.lineno <= last);
    if (!inside) comments.push_back(c);
  }
  emit::EmitInput in{name, options.channels_last, options.io_torch, &comments};
  result.code = emit::emit_module(lowered, builder, in);
  return result;
}

}  // namespace t2k::driver
