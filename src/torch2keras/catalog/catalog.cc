// Loads the catalog from the embedded data files (see catalog.h).
#include "torch2keras/catalog/catalog.h"

#include "torch2keras/base/embedded.h"

namespace t2k::catalog {

const char* name(Layout layout) {
  switch (layout) {
    case Layout::Any: return "any";
    case Layout::Spatial: return "spatial";
    case Layout::Channel: return "channel";
    case Layout::Features: return "features";
    case Layout::Torch: return "torch";
    case Layout::Dim: return "dim";
    case Layout::Reduce: return "reduce";
    case Layout::Shape: return "shape";
    case Layout::Value: return "value";
    case Layout::Flatten: return "flatten";
    case Layout::Reshape: return "reshape";
    case Layout::Permute: return "permute";
    case Layout::Unsqueeze: return "unsqueeze";
  }
  return "";
}

namespace {

bool parse_layout(std::string_view text, Layout& out) {
  for (Layout l : {Layout::Any, Layout::Spatial, Layout::Channel, Layout::Features, Layout::Torch,
                   Layout::Dim, Layout::Reduce, Layout::Shape, Layout::Value, Layout::Flatten,
                   Layout::Reshape, Layout::Permute, Layout::Unsqueeze}) {
    if (text == name(l)) {
      out = l;
      return true;
    }
  }
  return false;
}

const ast::Constant* as_str(const ast::ExprNode* e) {
  auto* c = ast::as<ast::Constant>(e);
  return c != nullptr && c->value.kind == ast::ConstantValue::Kind::Str ? c : nullptr;
}

}  // namespace

const Catalog& Catalog::instance() {
  static const Catalog catalog;
  return catalog;
}

Catalog::Catalog() {
  for (const EmbeddedFile& f : embedded_files()) {
    if (f.path.starts_with("catalog/") && f.path.ends_with(".py")) load_file(f.path, f.text);
  }
}

void Catalog::load_file(std::string_view path, std::string_view text) {
  syntax::ParseOptions options;
  options.keep_comments = false;
  options.source_is_text = true;
  auto parsed = syntax::parse_source(text, options);
  if (parsed->error) {
    problems_.push_back(std::string(path) + ": " + parsed->error->message);
    return;
  }
  auto* module = static_cast<ast::Module*>(parsed->tree);
  for (ast::StmtNode* stmt : module->body) {
    if (auto* assign = ast::as<ast::Assign>(stmt)) {
      auto* target = ast::as<ast::Name>(assign->targets[0]);
      auto* dict = ast::as<ast::Dict>(assign->value);
      if (target != nullptr && target->id == "INITIALIZER_ATTRIBUTES" && dict != nullptr) {
        // "layers.Conv2D": dict(weight="kernel_initializer", bias="bias_initializer")
        for (std::size_t i = 0; i < dict->keys.size(); ++i) {
          auto* key = as_str(dict->keys[i]);
          auto* call = ast::as<ast::Call>(dict->values[i]);
          if (key == nullptr || call == nullptr) {
            problems_.push_back(std::string(path) + ": INITIALIZER_ATTRIBUTES entries are \"callee\": dict(...)");
            continue;
          }
          auto& attrs = initializer_attributes_[std::string(key->value.text)];
          for (ast::Keyword* kw : call->keywords)
            if (auto* v = as_str(kw->value)) attrs[std::string(kw->arg)] = std::string(v->value.text);
        }
        continue;
      }
      if (target != nullptr && target->id == "TORCH_DTYPES" && dict != nullptr) {
        // "torch.long": "int64"
        for (std::size_t i = 0; i < dict->keys.size(); ++i) {
          auto* key = as_str(dict->keys[i]);
          auto* value = as_str(dict->values[i]);
          if (key == nullptr || value == nullptr) {
            problems_.push_back(std::string(path) + ": TORCH_DTYPES entries are \"torch path\": \"keras dtype\"");
            continue;
          }
          dtypes_[std::string(key->value.text)] = std::string(value->value.text);
        }
        continue;
      }
      if (target == nullptr || target->id != "KERAS_DEFAULTS" || dict == nullptr) continue;
      for (std::size_t i = 0; i < dict->keys.size(); ++i) {
        auto* key = as_str(dict->keys[i]);
        auto* call = ast::as<ast::Call>(dict->values[i]);
        if (key == nullptr || call == nullptr) {
          problems_.push_back(std::string(path) + ": KERAS_DEFAULTS entries are \"callee\": dict(...)");
          continue;
        }
        auto& defaults = keras_defaults_[std::string(key->value.text)];
        for (ast::Keyword* kw : call->keywords)
          defaults[std::string(kw->arg)] = analysis::literal_value(kw->value);
      }
      continue;
    }
    auto* def = ast::as<ast::FunctionDef>(stmt);
    if (def == nullptr || def->decorator_list.size() != 1) continue;
    auto* deco = ast::as<ast::Call>(def->decorator_list[0]);
    auto* deco_name = deco != nullptr ? ast::as<ast::Name>(deco->func) : nullptr;
    if (deco_name == nullptr) continue;
    auto entry = std::make_unique<Entry>();
    std::vector<std::string> twin_methods;  // method=: the method keys of the same form
    entry->def = def;
    entry->file = std::string(path);
    std::string where = std::string(path) + ":" + std::to_string(def->loc.lineno) + ": ";
    if (deco_name->id == "module") entry->kind = EntryKind::Module;
    else if (deco_name->id == "function") entry->kind = EntryKind::Function;
    else if (deco_name->id == "method") entry->kind = EntryKind::Method;
    else if (deco_name->id == "attribute") entry->kind = EntryKind::Attribute;
    else if (deco_name->id == "initializer") entry->kind = EntryKind::Initializer;
    else if (deco_name->id == "parameter") entry->kind = EntryKind::Parameter;
    else if (deco_name->id == "build") entry->kind = EntryKind::Build;
    else {
      problems_.push_back(where + "unknown decorator " + std::string(deco_name->id));
      continue;
    }
    for (ast::ExprNode* a : deco->args) {
      if (auto* s = as_str(a)) entry->keys.emplace_back(s->value.text);
      else problems_.push_back(where + "decorator arguments are strings");
    }
    for (ast::Keyword* kw : deco->keywords) {
      if (kw->arg == "layout") {
        auto* s = as_str(kw->value);
        if (s == nullptr || !parse_layout(s->value.text, entry->layout))
          problems_.push_back(where + "bad layout");
      } else if (kw->arg == "rank") {
        auto v = analysis::literal_value(kw->value);
        if (v.kind == analysis::ConstValue::Kind::Str && v.text == "input") entry->rank = Entry::kRankOfInput;
        else if (v.kind == analysis::ConstValue::Kind::Int && v.integer >= 1) entry->rank = static_cast<int>(v.integer);
        else problems_.push_back(where + "rank= is an int or \"input\"");
      } else if (kw->arg == "tensor") {
        if (auto* s = as_str(kw->value)) entry->tensor_param = std::string(s->value.text);
      } else if (kw->arg == "returns" && ast::is<ast::Tuple>(kw->value)) {
        // The fields of the named tuple the entry's tuple forms return.
        auto v = analysis::literal_value(kw->value);
        for (auto& item : v.items) {
          if (item.kind != analysis::ConstValue::Kind::Str)
            problems_.push_back(where + "returns= fields are names");
          entry->fields.push_back(item.text);
        }
      } else if (kw->arg == "returns") {
        auto* v = as_str(kw->value);
        std::string_view r = v != nullptr ? std::string_view(v->value.text) : "";
        entry->returns_list = r == "list";
        entry->returns_packed = r == "packed";
        if (r == "bool") entry->returns_dtype = ResultDType::Bool;
        else if (r == "int") entry->returns_dtype = ResultDType::Int;
        else if (r == "float") entry->returns_dtype = ResultDType::Float;
        else if (r == "number") entry->returns_dtype = ResultDType::Number;
        else if (r == "sum") entry->returns_dtype = ResultDType::Sum;
        else if (r == "cast") entry->returns_dtype = ResultDType::Cast;
        else if (r != "list" && (r != "packed" || entry->kind != EntryKind::Function))
          problems_.push_back(where +
                              "returns= takes \"list\", \"bool\", \"int\", \"float\", \"number\", \"sum\", "
                              "\"cast\", \"packed\" (a @function) or a tuple of field names");
      } else if (kw->arg == "input") {
        auto* v = as_str(kw->value);
        std::string_view r = v != nullptr ? std::string_view(v->value.text) : "";
        entry->input_dtype = r == "int" ? ResultDType::Int : r == "float" ? ResultDType::Float : ResultDType::Same;
        if (entry->input_dtype == ResultDType::Same ||
            (entry->kind != EntryKind::Module && entry->kind != EntryKind::Function && entry->kind != EntryKind::Method))
          problems_.push_back(where + "input= takes \"int\" or \"float\", on a @module, @function or @method");
      } else if (kw->arg == "items") {
        auto v = analysis::literal_value(kw->value);
        for (auto& item : v.items) {
          std::string_view r = item.kind == analysis::ConstValue::Kind::Str ? std::string_view(item.text) : "";
          ResultDType d = r == "bool" ? ResultDType::Bool : r == "int" ? ResultDType::Int
                          : r == "float" ? ResultDType::Float : ResultDType::Same;
          if (d == ResultDType::Same && r != "same")
            problems_.push_back(where + "items= takes \"same\", \"bool\", \"int\" or \"float\" per item");
          entry->item_dtypes.push_back(d);
        }
        if (v.kind != analysis::ConstValue::Kind::Tuple) problems_.push_back(where + "items= takes a tuple");
      } else if (kw->arg == "packed") {
        auto* v = as_str(kw->value);
        if (v != nullptr) entry->packed_param = std::string(v->value.text);
        bool ok = v != nullptr && (entry->kind == EntryKind::Function ||
                                   (entry->kind == EntryKind::Module && entry->packed_param == "input"));
        if (!ok) problems_.push_back(where + "packed= names a parameter of a @function, or is \"input\" on a @module");
      } else if (kw->arg == "vararg") {
        auto* v = as_str(kw->value);
        entry->vararg_items = v != nullptr && v->value.text == "items";
        if (!entry->vararg_items || def->args->vararg == nullptr)
          problems_.push_back(where + "vararg= takes \"items\", on an entry with a `*` parameter");
      } else if (kw->arg == "view") {
        entry->view = analysis::literal_value(kw->value).truth().value_or(false);
      } else if (kw->arg == "alias") {
        entry->alias = analysis::literal_value(kw->value).truth().value_or(false);
      } else if (kw->arg == "base") {
        if (auto* s = as_str(kw->value)) entry->subclass_base = std::string(s->value.text);
      } else if (kw->arg == "spatial_size") {
        if (auto* s = as_str(kw->value)) entry->spatial_size = std::string(s->value.text);
        else problems_.push_back(where + "spatial_size= takes a string");
      } else if (kw->arg == "settings") {
        auto v = analysis::literal_value(kw->value);
        if (v.kind != analysis::ConstValue::Kind::Tuple) problems_.push_back(where + "settings= takes a tuple of names");
        for (auto& item : v.items) entry->settings.push_back(item.text);
      } else if (kw->arg == "dims") {
        auto v = analysis::literal_value(kw->value);
        for (auto& item : v.items) entry->dim_params.push_back(item.text);
      } else if (kw->arg == "method") {
        // The tensor method with the function's form (x.argsort(...) is
        // torch.argsort(x, ...)): the receiver is the first parameter.
        if (auto* s = as_str(kw->value); s != nullptr && entry->kind == EntryKind::Function) twin_methods.emplace_back(s->value.text);
        else problems_.push_back(where + "method= names a tensor method, on a @function");
      } else {
        problems_.push_back(where + "unknown decorator keyword " + std::string(kw->arg));
      }
    }
    if (entry->keys.empty()) problems_.push_back(where + "an entry needs at least one key");
    auto& index = entry->kind == EntryKind::Module     ? modules_
                  : entry->kind == EntryKind::Function ? functions_
                  : entry->kind == EntryKind::Method   ? methods_
                  : entry->kind == EntryKind::Initializer ? initializers_
                  : entry->kind == EntryKind::Parameter   ? parameters_
                  : entry->kind == EntryKind::Build       ? builds_
                                                       : attributes_;
    for (const std::string& key : entry->keys) {
      if (!index.emplace(key, entry.get()).second) problems_.push_back(where + "duplicate key " + key);
    }
    if (!twin_methods.empty()) {
      auto twin = std::make_unique<Entry>(*entry);
      twin->kind = EntryKind::Method;
      twin->keys = twin_methods;
      const ast::Arguments* params = def->args;
      if (twin->tensor_param.empty() && !params->args.empty()) twin->tensor_param = std::string(params->args[0]->arg);
      for (const std::string& key : twin->keys)
        if (!methods_.emplace(key, twin.get()).second) problems_.push_back(where + "duplicate key " + key);
      entries_.push_back(std::move(twin));
    }
    entries_.push_back(std::move(entry));
  }
  sources_.push_back(std::move(parsed));
}

const Entry* Catalog::find_module(std::string_view torch_path) const {
  auto it = modules_.find(std::string(torch_path));
  return it == modules_.end() ? nullptr : it->second;
}

const Entry* Catalog::find_function(std::string_view torch_path) const {
  auto it = functions_.find(std::string(torch_path));
  return it == functions_.end() ? nullptr : it->second;
}

const Entry* Catalog::find_parameter(std::string_view keras_callee, std::string_view torch_param) const {
  auto it = parameters_.find(std::string(keras_callee) + "." + std::string(torch_param));
  return it == parameters_.end() ? nullptr : it->second;
}

bool Catalog::is_dtype_name(std::string_view name) const {
  for (const auto& [path, dtype] : dtypes_)
    if (dtype == name) return true;
  return false;
}

const Entry* Catalog::find_build(std::string_view torch_path) const {
  auto it = builds_.find(std::string(torch_path));
  return it == builds_.end() ? nullptr : it->second;
}

const Entry* Catalog::find_method(std::string_view name) const {
  auto it = methods_.find(std::string(name));
  return it == methods_.end() ? nullptr : it->second;
}

const Entry* Catalog::find_initializer(std::string_view torch_path) const {
  auto it = initializers_.find(std::string(torch_path));
  return it == initializers_.end() ? nullptr : it->second;
}

const std::string* Catalog::initializer_attribute(std::string_view keras_callee, std::string_view torch_param) const {
  auto it = initializer_attributes_.find(std::string(keras_callee));
  if (it == initializer_attributes_.end()) return nullptr;
  auto a = it->second.find(std::string(torch_param));
  return a == it->second.end() ? nullptr : &a->second;
}

const Entry* Catalog::find_attribute(std::string_view name) const {
  auto it = attributes_.find(std::string(name));
  return it == attributes_.end() ? nullptr : it->second;
}

const std::string* Catalog::find_dtype(std::string_view torch_path) const {
  auto it = dtypes_.find(std::string(torch_path));
  return it == dtypes_.end() ? nullptr : &it->second;
}

bool Catalog::knows_path(std::string_view path) const {
  static constexpr std::string_view kContainers[] = {
      "torch.nn.Module", "torch.nn.Sequential", "torch.nn.ModuleList", "torch.nn.ModuleDict",
      "torch.nn.Parameter", "torch.nn.functional", "torch.nn.init"};
  for (std::string_view c : kContainers)
    if (path == c) return true;
  return find_module(path) != nullptr || find_function(path) != nullptr || find_dtype(path) != nullptr;
}

const analysis::ConstValue* Catalog::keras_default(std::string_view callee,
                                                   std::string_view keyword) const {
  auto it = keras_defaults_.find(std::string(callee));
  if (it == keras_defaults_.end()) return nullptr;
  auto kw = it->second.find(std::string(keyword));
  return kw == it->second.end() ? nullptr : &kw->second;
}

}  // namespace t2k::catalog
