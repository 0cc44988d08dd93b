// The conversion driver (see convert.h).
#include "torch2keras/driver/convert.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
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
namespace {

// The names that the other files in `files` import from the file `self` (with
// `from .x import A` / `from ..pkg.x import A`, or absolutely by its dotted name).
// Each file is read and parsed once per process.
std::set<std::string> imported_from(const std::string& self, const std::string& dotted,
                                    const std::vector<std::string>& files) {
  static std::mutex lock;
  // path -> (from-import: target file guess or dotted module, names)
  static std::map<std::string, std::vector<std::pair<std::string, std::vector<std::string>>>> cache;
  std::set<std::string> names;
  namespace fs = std::filesystem;
  std::lock_guard<std::mutex> guard(lock);
  for (const std::string& file : files) {
    if (file == self) continue;
    auto it = cache.find(file);
    if (it == cache.end()) {
      std::vector<std::pair<std::string, std::vector<std::string>>> imports;
      std::ifstream in(file, std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      syntax::ParseOptions parse_options;
      auto parsed = syntax::parse_source(text.str(), parse_options);
      if (!parsed->error) {
        for (const ast::StmtNode* s : static_cast<const ast::Module*>(parsed->tree)->body) {
          auto* from = ast::as<ast::ImportFrom>(s);
          if (from == nullptr) continue;
          std::string module = from->module.data() ? std::string(from->module) : "";
          std::string target;
          if (from->level > 0) {
            fs::path dir = fs::path(file).parent_path();
            for (int i = 1; i < from->level; ++i) dir = dir.parent_path();
            std::string rel = module;
            for (char& ch : rel)
              if (ch == '.') ch = '/';
            target = "file:" + (dir / (rel + ".py")).lexically_normal().string();
          } else {
            target = "module:" + module;
          }
          std::vector<std::string> imported;
          for (const ast::Alias* a : from->names) imported.emplace_back(a->name);
          imports.emplace_back(target, std::move(imported));
        }
      }
      it = cache.emplace(file, std::move(imports)).first;
    }
    for (const auto& [target, imported] : it->second)
      if (target == "file:" + self || (!dotted.empty() && target == "module:" + dotted))
        names.insert(imported.begin(), imported.end());
  }
  return names;
}

// `path` made absolute and free of `.`/`..`/links where it exists (file identity).
std::string canonical_path(const std::string& path) {
  std::error_code ec;
  std::filesystem::path p = std::filesystem::weakly_canonical(std::filesystem::absolute(path, ec), ec);
  return p.string();
}

}  // namespace

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
  // Files converted together (`convert PKG_DIR`): their definitions are analysed
  // here but imported, not copied.
  std::set<std::string> together;
  for (const std::string& f : options.package_files) together.insert(canonical_path(f));
  auto converted_together = [&](const std::string& file) { return !file.empty() && together.count(canonical_path(file)); };
  std::set<const ast::StmtNode*> hidden;
  std::vector<ast::StmtNode*> kept_imports;
  if (!linked.definitions.empty()) {
    std::vector<ast::StmtNode*> body(linked.imports.begin(), linked.imports.end());
    for (const analysis::PulledDefinition& d : linked.definitions) {
      body.push_back(d.stmt);
      if (converted_together(d.file)) hidden.insert(d.stmt);
    }
    for (ast::StmtNode* s : module->body) {
      // Imports of linked names are now definitions of this module, unless the
      // defining file is converted too.
      if (auto* from = ast::as<ast::ImportFrom>(s)) {
        std::vector<ast::Alias*> kept;
        bool imports_together = false;
        for (ast::Alias* a : from->names) {
          std::string local(a->asname.data() ? a->asname : a->name);
          bool linked_here = linked.linked_names.count(local) > 0;
          bool stays = linked_here && converted_together(linked.linked_files[local]);
          imports_together = imports_together || stays;
          if (!linked_here || stays) kept.push_back(a);
        }
        if (kept.empty()) continue;
        ast::StmtNode* stmt = s;
        if (kept.size() != from->names.size()) {
          auto* copy = arena.make<ast::ImportFrom>(*from);
          copy->names = ast::Seq<ast::Alias*>(arena.copy(std::span<ast::Alias* const>(kept.data(), kept.size())));
          stmt = copy;
        }
        // An import of a file converted too is written, not analysed: the
        // analysis sees the definition it names.
        if (imports_together) kept_imports.push_back(stmt);
        else body.push_back(stmt);
        continue;
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
  std::set<std::string> imported_elsewhere;
  if (!options.package_files.empty()) {
    std::vector<std::string> files;
    for (const std::string& f : options.package_files) files.push_back(canonical_path(f));
    imported_elsewhere = imported_from(canonical_path(options.filename), linked.dotted_name, files);
  }
  lowering::LowerOptions lower_options{options.channels_last, options.io_torch, options.filename, hidden,
                                       kept_imports, imported_elsewhere};
  lower_options.explain_layout = options.explain_layout;
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
  std::vector<std::pair<int32_t, int32_t>> removed(lowered.left_out.begin(), lowered.left_out.end());
  emit::EmitInput in{name, options.channels_last, options.io_torch, &comments, &removed};
  result.code = emit::emit_module(lowered, builder, in);
  return result;
}

}  // namespace t2k::driver
