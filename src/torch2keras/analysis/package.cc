// Package linking (see package.h).
#include "torch2keras/analysis/package.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "torch2keras/analysis/imports.h"

namespace t2k::analysis {
namespace {

namespace fs = std::filesystem;

// Names a telemetry call uses; its calls are dropped, so it is never pulled.
bool is_telemetry(std::string_view name) { return name == "_log_api_usage_once"; }

void clear_locations(ast::Node* n) {
  if (n == nullptr) return;
  n->loc = {};
  ast::for_each_child(n, clear_locations);
}

struct FileModule {
  std::string path;
  std::string dotted;
  bool is_package = false;
  std::unique_ptr<syntax::ParsedSource> parsed;
  const ast::Module* tree = nullptr;
  std::unique_ptr<ImportScope> scope;
  std::map<std::string, ast::StmtNode*> defs;  // module-level definitions by name
};

void index_definitions(FileModule& f) {
  for (ast::StmtNode* s : f.tree->body) {
    if (auto* c = ast::as<ast::ClassDef>(s)) f.defs[std::string(c->name)] = s;
    else if (auto* d = ast::as<ast::FunctionDef>(s)) f.defs[std::string(d->name)] = s;
    else if (auto* a = ast::as<ast::Assign>(s)) {
      for (ast::ExprNode* t : a->targets)
        if (auto* n = ast::as<ast::Name>(t)) f.defs.emplace(std::string(n->id), s);
    } else if (auto* a = ast::as<ast::AnnAssign>(s); a && a->value) {
      if (auto* n = ast::as<ast::Name>(a->target)) f.defs.emplace(std::string(n->id), s);
    }
  }
}

class Linker {
 public:
  Linker(const ast::Module* module, const std::string& path, LinkedModule& out,
         std::function<bool(std::string_view)> converted_elsewhere)
      : out_(out), converted_elsewhere_(std::move(converted_elsewhere)) {
    fs::path file(path);
    std::vector<std::string> parts;
    std::string stem = file.stem().string();
    out_.is_package = stem == "__init__";
    if (!out_.is_package) parts.push_back(stem);
    fs::path dir = file.parent_path();
    std::error_code ec;
    while (!dir.empty() && fs::exists(dir / "__init__.py", ec)) {
      parts.insert(parts.begin(), dir.filename().string());
      if (dir == dir.parent_path()) break;
      dir = dir.parent_path();
    }
    root_ = dir;
    in_package_ = parts.size() > 1 || (out_.is_package && !parts.empty());
    for (std::size_t i = 0; i < parts.size(); ++i) out_.dotted_name += (i ? "." : "") + parts[i];
    top_ = parts.empty() ? "" : parts[0];
    main_.dotted = out_.dotted_name;
    main_.is_package = out_.is_package;
    main_.tree = module;
    main_.scope = std::make_unique<ImportScope>(module->body, ModuleLocation{main_.dotted, main_.is_package});
    index_definitions(main_);
  }

  void run() {
    if (!in_package_) return;
    // Seeds: names the input's classes use (not weight enums), and the
    // module-level functions of the input they reach.
    std::set<std::string> seeds;
    for (ast::StmtNode* s : main_.tree->body) {
      auto* c = ast::as<ast::ClassDef>(s);
      if (c == nullptr) continue;
      bool enum_class = false;
      for (ast::ExprNode* b : c->bases) {
        std::set<std::string> names;
        ast::collect_names(b, names);
        for (const std::string& n : names) enum_class = enum_class || n.ends_with("Enum");
      }
      if (!enum_class) ast::collect_names(c, seeds);
    }
    std::set<std::string> seen_local;
    std::vector<std::string> work(seeds.begin(), seeds.end());
    while (!work.empty()) {
      std::string name = work.back();
      work.pop_back();
      if (auto it = main_.defs.find(name); it != main_.defs.end() && !ast::is<ast::ClassDef>(it->second)) {
        if (seen_local.insert(name).second) {
          std::set<std::string> more;
          ast::collect_names(it->second, more);
          work.insert(work.end(), more.begin(), more.end());
        }
        continue;
      }
      if (main_.defs.count(name) || is_telemetry(name)) continue;
      if (pull(main_, name)) {
        out_.linked_names.insert(name);
        out_.linked_files[name] = last_pulled_file_;
      }
    }
    // Imports the pulled definitions use, one statement per name.
    for (auto& [local, path] : imports_) out_.imports.push_back(import_statement(local, path));
  }

 private:
  // Pulls the definition `name` refers to in file `f` (an import of the package);
  // true when it was found.
  bool pull(FileModule& f, const std::string& name) {
    auto bound = f.scope->binding(name);
    if (!bound || top_.empty() || !(*bound == top_ || bound->starts_with(top_ + "."))) return false;
    if (converted_elsewhere_ && converted_elsewhere_(*bound)) return false;
    std::size_t dot = bound->rfind('.');
    if (dot == std::string::npos) return false;
    FileModule* m = load(bound->substr(0, dot));
    std::string attr = bound->substr(dot + 1);
    // A re-export (`from .stochastic_depth import StochasticDepth` in ops/__init__.py).
    for (int hops = 0; m != nullptr && !m->defs.count(attr) && hops < 8; ++hops) {
      auto next = m->scope->binding(attr);
      if (!next || !next->starts_with(top_ + ".")) break;
      if (converted_elsewhere_ && converted_elsewhere_(*next)) return false;
      std::size_t d = next->rfind('.');
      m = load(next->substr(0, d));
      attr = next->substr(d + 1);
    }
    if (m == nullptr || !m->defs.count(attr)) return false;
    last_pulled_file_ = m->path;
    define(*m, attr);
    // `from ..ops.misc import SqueezeExcitation as SElayer`: the alias becomes a
    // module-level assignment after the definition, in the file that imports it.
    if (attr != name && aliased_.insert({&f, name}).second) alias(name, attr, m->path);
    return true;
  }

  // `local = defined` (both Names), appended to the definitions.
  void alias(const std::string& local, const std::string& defined, const std::string& file) {
    Arena& arena = arena_holder();
    auto* target = arena.make<ast::Name>();
    target->kind = ast::NodeKind::Name;
    target->id = arena.copy_string(local);
    target->ctx = ast::ExprContext::Store;
    auto* value = arena.make<ast::Name>();
    value->kind = ast::NodeKind::Name;
    value->id = arena.copy_string(defined);
    value->ctx = ast::ExprContext::Load;
    auto* assign = arena.make<ast::Assign>();
    assign->kind = ast::NodeKind::Assign;
    ast::ExprNode* targets[] = {target};
    assign->targets = ast::Seq<ast::ExprNode*>(arena.copy(std::span<ast::ExprNode* const>(targets, 1)));
    assign->value = value;
    out_.definitions.push_back({file, assign});
  }

  // Adds the definition of `name` in `m` after everything it uses.
  void define(FileModule& m, const std::string& name) {
    ast::StmtNode* stmt = m.defs.at(name);
    if (!defined_.insert(stmt).second) return;
    std::set<std::string> uses;
    ast::collect_names(stmt, uses);
    for (const std::string& u : uses) {
      if (u == name || is_telemetry(u)) continue;
      if (m.defs.count(u)) {
        define(m, u);
      } else if (auto bound = m.scope->binding(u)) {
        if (!pull(m, u)) {
          if (bound->starts_with(top_ + ".")) continue;  // another package name: left to the diagnostics
          auto [it, inserted] = imports_.emplace(u, *bound);
          if (!inserted && it->second != *bound)
            out_.problems.push_back(m.path + ": `" + u + "` is imported as both `" + it->second + "` and `" +
                                    *bound + "` by the linked files");
        }
      }
    }
    clear_locations(stmt);
    out_.definitions.push_back({m.path, stmt});
  }

  FileModule* load(const std::string& dotted) {
    if (auto it = files_.find(dotted); it != files_.end()) return it->second.get();
    auto& slot = files_[dotted];
    fs::path base = root_;
    std::stringstream parts(dotted);
    for (std::string part; std::getline(parts, part, '.');) base /= part;
    fs::path file = base;
    file += ".py";
    bool is_package = false;
    std::error_code ec;
    if (!fs::exists(file, ec)) {
      file = base / "__init__.py";
      is_package = true;
      if (!fs::exists(file, ec)) return nullptr;
    }
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    syntax::ParseOptions options;
    auto parsed = syntax::parse_source(text.str(), options);
    if (parsed->error) {
      out_.problems.push_back(file.string() + ": " + parsed->error->message);
      return nullptr;
    }
    slot = std::make_unique<FileModule>();
    slot->path = file.string();
    slot->dotted = dotted;
    slot->is_package = is_package;
    slot->tree = static_cast<const ast::Module*>(parsed->tree);
    slot->scope = std::make_unique<ImportScope>(slot->tree->body, ModuleLocation{dotted, is_package});
    slot->parsed = std::move(parsed);
    index_definitions(*slot);
    return slot.get();
  }

  ast::StmtNode* import_statement(const std::string& local, const std::string& path) {
    Arena& arena = arena_holder();
    auto* alias = arena.make<ast::Alias>();
    alias->kind = ast::NodeKind::Alias;
    std::size_t dot = path.rfind('.');
    if (dot == std::string::npos) {
      alias->name = arena.copy_string(path);
      if (local != path) alias->asname = arena.copy_string(local);
      auto* im = arena.make<ast::Import>();
      im->kind = ast::NodeKind::Import;
      im->names = ast::Seq<ast::Alias*>(arena.copy(std::span<ast::Alias* const>(&alias, 1)));
      return im;
    }
    alias->name = arena.copy_string(path.substr(dot + 1));
    if (local != path.substr(dot + 1)) alias->asname = arena.copy_string(local);
    auto* im = arena.make<ast::ImportFrom>();
    im->kind = ast::NodeKind::ImportFrom;
    im->module = arena.copy_string(path.substr(0, dot));
    im->names = ast::Seq<ast::Alias*>(arena.copy(std::span<ast::Alias* const>(&alias, 1)));
    return im;
  }

  // Synthesized nodes live in a ParsedSource of their own, owned by the result.
  Arena& arena_holder() {
    if (synth_ == nullptr) {
      out_.sources.push_back(std::make_unique<syntax::ParsedSource>());
      synth_ = out_.sources.back().get();
    }
    return synth_->arena;
  }

 public:
  void hand_over() {
    for (auto& [name, f] : files_)
      if (f) out_.sources.push_back(std::move(f->parsed));
  }

 private:
  LinkedModule& out_;
  std::function<bool(std::string_view)> converted_elsewhere_;
  fs::path root_;
  std::string top_;
  bool in_package_ = false;
  FileModule main_;
  std::map<std::string, std::unique_ptr<FileModule>> files_;
  std::set<const ast::StmtNode*> defined_;
  std::set<std::pair<const FileModule*, std::string>> aliased_;
  std::string last_pulled_file_;
  std::map<std::string, std::string> imports_;
  syntax::ParsedSource* synth_ = nullptr;
};

}  // namespace

LinkedModule link_package(const ast::Module* module, const std::string& path,
                          const std::function<bool(std::string_view)>& converted_elsewhere) {
  LinkedModule out;
  Linker linker(module, path, out, converted_elsewhere);
  linker.run();
  linker.hand_over();
  return out;
}

}  // namespace t2k::analysis
