// Applying a catalog entry to a call (see instantiate.h).
#include "torch2keras/lowering/instantiate.h"

#include <optional>

#include "torch2keras/syntax/unparse.h"

namespace t2k::lowering {
namespace {

using analysis::ConstValue;

// One parameter of the entry and what it is bound to.
struct Binding {
  std::string_view name;
  ast::ExprNode* expr = nullptr;        // the argument (output tree), or the default
  bool from_default = false;
  ConstValue value;                     // its compile-time value
};

// "layers.Conv2D" for a callee Attribute(Name(layers), Conv2D); "" otherwise.
std::string callee_path(const ast::ExprNode* func) {
  if (auto* n = ast::as<ast::Name>(func)) return std::string(n->id);
  if (auto* a = ast::as<ast::Attribute>(func)) {
    std::string base = callee_path(a->value);
    return base.empty() ? base : base + "." + std::string(a->attr);
  }
  return "";
}

class Instantiator {
 public:
  Instantiator(const InstantiateRequest& request, Builder& b) : req_(request), b_(b) {}

  InstantiateResult run() {
    InstantiateResult result;
    if (!bind(result.error, result.undecided)) return result;
    for (ast::StmtNode* stmt : req_.entry->def->body) {
      if (auto* e = ast::as<ast::Expr>(stmt)) {
        auto* call = ast::as<ast::Call>(e->value);
        auto* fn = call ? ast::as<ast::Name>(call->func) : nullptr;
        if (fn == nullptr) continue;  // docstring
        if (fn->id == "require" && call->args.size() == 2) {
          auto ok = eval(call->args[0]).truth();
          if (!ok || !*ok) {
            result.error = format_message(call->args[1]);
            if (!ok) {
              result.error += " (the argument must be a compile-time constant here)";
              result.undecided = true;
            }
            return result;
          }
        }
        // warn(CONDITION, "message"): exact, but a difference the user should know
        // of, when the condition is true or not known here (an argument known only
        // at run time).
        if (fn->id == "warn" && call->args.size() == 2) {
          if (auto on = eval(call->args[0]).truth(); !on || *on) result.warnings.push_back(format_message(call->args[1]));
          continue;
        }
        continue;  // ignore(...)
      }
      if (auto* i = ast::as<ast::If>(stmt)) {
        auto t = eval(i->test).truth();
        // A function's forms: an unknown condition falls through to the last form,
        // which is right for every argument (catalog/README.md). A module's choice
        // is made at run time by its factory instead.
        if (!t && req_.entry->kind != catalog::EntryKind::Module) continue;
        if (!t) {
          // Which form applies depends on values known only when the code runs.
          result.error = "the form of `" + std::string(req_.entry->def->name) +
                         "` depends on arguments that are not compile-time constants";
          result.undecided = true;
          return result;
        }
        if (*t && !i->body.empty()) {
          if (auto* r = ast::as<ast::Return>(i->body.back())) return finish(r->value, result);
        }
        continue;
      }
      if (auto* r = ast::as<ast::Return>(stmt)) return finish(r->value, result);
    }
    result.error = "internal: catalog entry " + std::string(req_.entry->def->name) + " has no form";
    return result;
  }

 private:
  // Binds the call's arguments to the entry's signature. `*`/`**` arguments bind
  // only at run time: `undecided` asks the caller for the entry's factory.
  bool bind(std::string& error, bool& undecided) {
    const ast::Arguments* a = req_.entry->def->args;
    std::vector<ast::Arg*> positional;
    for (ast::Arg* p : a->posonlyargs) positional.push_back(p);
    for (ast::Arg* p : a->args) positional.push_back(p);
    std::size_t first_default = positional.size() - a->defaults.size();
    std::vector<ast::ExprNode*> args;
    if (req_.entry->kind == catalog::EntryKind::Method || req_.entry->kind == catalog::EntryKind::Attribute ||
        req_.entry->kind == catalog::EntryKind::Parameter)
      args.push_back(req_.self);
    for (ast::ExprNode* e : req_.args) args.push_back(e);

    std::vector<Binding> bound(positional.size());
    std::vector<bool> set(positional.size(), false);
    std::vector<ast::ExprNode*> extra;
    for (std::size_t i = 0; i < args.size(); ++i) {
      if (ast::is<ast::Starred>(args[i])) {
        error = "`*` arguments cannot be matched to the parameters of `" +
                std::string(req_.entry->def->name) + "` statically";
        undecided = true;
        return false;
      }
      if (i < positional.size()) {
        bound[i].expr = args[i];
        set[i] = true;
      } else if (a->vararg != nullptr) {
        extra.push_back(args[i]);
      } else {
        error = "too many positional arguments for `" + std::string(req_.entry->def->name) + "`";
        return false;
      }
    }
    std::vector<Binding> kwonly(a->kwonlyargs.size());
    for (ast::Keyword* kw : req_.keywords) {
      if (kw->arg.data() == nullptr) {
        error = "`**` arguments cannot be matched to the parameters of `" +
                std::string(req_.entry->def->name) + "` statically";
        undecided = true;
        return false;
      }
      bool found = false;
      for (std::size_t i = 0; i < positional.size() && !found; ++i) {
        if (positional[i]->arg == kw->arg) {
          if (set[i]) {
            error = "argument `" + std::string(kw->arg) + "` given twice";
            return false;
          }
          bound[i].expr = kw->value;
          set[i] = found = true;
        }
      }
      for (std::size_t i = 0; i < a->kwonlyargs.size() && !found; ++i) {
        if (a->kwonlyargs[i]->arg == kw->arg) {
          kwonly[i].expr = kw->value;
          found = true;
        }
      }
      if (!found && a->kwarg == nullptr) {
        error = "`" + std::string(req_.entry->def->name) + "` has no parameter `" +
                std::string(kw->arg) + "`";
        return false;
      }
    }
    for (std::size_t i = 0; i < positional.size(); ++i) {
      bound[i].name = positional[i]->arg;
      if (!set[i]) {
        if (i < first_default) {
          error = "missing argument `" + std::string(positional[i]->arg) + "` of `" +
                  std::string(req_.entry->def->name) + "`";
          return false;
        }
        bound[i].expr = a->defaults[i - first_default];
        bound[i].from_default = true;
      }
      add(bound[i]);
    }
    if (a->vararg != nullptr) {
      Binding v;
      v.name = a->vararg->arg;
      // `x.view(a, b)` binds shape=(a, b); `x.view((a, b))` binds the tuple itself.
      // A single name is a size only for a size parameter (`vararg="items"`: an item).
      bool name_is_size = !req_.entry->vararg_items && ast::is<ast::Name>(extra.size() == 1 ? extra[0] : nullptr) &&
                          !(req_.is_tensor && req_.is_tensor(extra[0]));
      if (extra.size() == 1 && (ast::is<ast::Tuple>(extra[0]) || ast::is<ast::List>(extra[0]) || name_is_size ||
                                (req_.is_sequence && req_.is_sequence(extra[0]))))
        v.expr = extra[0];
      else
        v.expr = b_.tuple(extra);
      add(v);
    }
    for (std::size_t i = 0; i < a->kwonlyargs.size(); ++i) {
      kwonly[i].name = a->kwonlyargs[i]->arg;
      if (kwonly[i].expr == nullptr) {
        kwonly[i].expr = a->kw_defaults[i];
        kwonly[i].from_default = true;
      }
      add(kwonly[i]);
    }
    return true;
  }

  void add(Binding binding) {
    if (binding.expr != nullptr) {
      binding.value = binding.from_default || !req_.const_of ? analysis::literal_value(binding.expr)
                                                              : req_.const_of(binding.expr);
      if (!binding.from_default && !binding.value.known())
        binding.value = analysis::literal_value(binding.expr);
    }
    if (req_.remap && !req_.entry->dim_params.empty()) {
      for (const std::string& d : req_.entry->dim_params) {
        if (d == binding.name) {
          if (ast::ExprNode* r = req_.remap(binding.name, binding.from_default ? nullptr : binding.expr)) {
            binding.expr = r;
            binding.value = analysis::literal_value(r);
          }
        }
      }
    }
    bindings_.emplace(std::string(binding.name), std::move(binding));
  }

  analysis::ConstEnv env() {
    analysis::ConstEnv e;
    e.lookup = [this](std::string_view name) -> ConstValue {
      auto it = bindings_.find(std::string(name));
      if (it != bindings_.end()) return it->second.value;
      return layout_constant(name);  // known in conditions too
    };
    e.call = [](std::string_view fn, const std::vector<ConstValue>& args) -> std::optional<ConstValue> {
      return predicate(fn, args);
    };
    // is_tensor(x), is_dtype(x), is_device(x): what the argument bound to x is.
    e.call_exprs = [this](std::string_view fn,
                          const std::vector<const ast::ExprNode*>& args) -> std::optional<ConstValue> {
      if (fn == "full_length" && args.size() == 2) return full_length(args[0], args[1]);
      if (fn != "is_tensor" && fn != "is_dtype" && fn != "is_device") return std::nullopt;
      auto* n = args.size() == 1 ? ast::as<ast::Name>(args[0]) : nullptr;
      auto it = n != nullptr ? bindings_.find(std::string(n->id)) : bindings_.end();
      if (it == bindings_.end() || it->second.expr == nullptr) return ConstValue::unknown();
      const ast::ExprNode* x = it->second.expr;
      ConstValue v = it->second.value;
      // A torch dtype (lowered to its Keras name) or a `.dtype` (`x.dtype`).
      auto* attr = ast::as<ast::Attribute>(x);
      bool dtype = (v.kind == ConstValue::Kind::Str && catalog::Catalog::instance().is_dtype_name(v.text)) ||
                   (attr != nullptr && attr->attr == "dtype") || (req_.is_dtype && req_.is_dtype(x));
      if (fn == "is_dtype") return ConstValue::boolean(dtype);
      if (fn == "is_tensor") return ConstValue::boolean(req_.is_tensor && req_.is_tensor(x));
      return ConstValue::boolean(!dtype && req_.is_device && req_.is_device(x));
    };
    return e;
  }

  // full_length(k, x): the argument bound to `k` is the size of x's one spatial
  // axis as the converted model stores x (`h.size(2)` of a (N, C, L) tensor is
  // ops.shape(h)[1] channels-last): a window over the whole sequence, whose result
  // has length 1 even where L is known only when the model runs.
  ConstValue full_length(const ast::ExprNode* k, const ast::ExprNode* x) {
    auto bound = [&](const ast::ExprNode* e) -> const ast::ExprNode* {
      auto* n = ast::as<ast::Name>(e);
      auto it = n != nullptr ? bindings_.find(std::string(n->id)) : bindings_.end();
      return it == bindings_.end() ? nullptr : it->second.expr;
    };
    const ast::ExprNode* size = bound(k);
    const ast::ExprNode* input = bound(x);
    auto* item = ast::as<ast::Subscript>(size);
    auto* shape = item != nullptr ? ast::as<ast::Call>(item->value) : nullptr;
    if (input == nullptr || shape == nullptr || shape->args.size() != 1 || req_.rank != 3 ||
        syntax::unparse(shape->func) != "ops.shape")
      return ConstValue::boolean(false);
    // The input as the model stores it, or transposed to channels-last here from
    // PyTorch's order (a list item's size read before: ops.shape(i)[2]).
    bool stored = syntax::unparse(shape->args[0]) == syntax::unparse(input);
    auto* moved = ast::as<ast::Call>(input);
    bool from_torch = req_.channels_last && moved != nullptr && syntax::unparse(moved->func) == "ops.transpose" &&
                      !moved->args.empty() && syntax::unparse(moved->args[0]) == syntax::unparse(shape->args[0]);
    if (!stored && !from_torch) return ConstValue::boolean(false);
    ConstValue axis = analysis::literal_value(item->slice);
    if (axis.kind != ConstValue::Kind::Int) return ConstValue::boolean(false);
    int64_t spatial = req_.channels_last && stored ? 1 : 2;
    return ConstValue::boolean(axis.integer == spatial || axis.integer == spatial - 3);
  }

  ConstValue eval(const ast::ExprNode* expr) { return analysis::const_eval(expr, env()); }

  // DATA_FORMAT ("channels_last" / "channels_first"), CHANNEL_AXIS (-1 / 1) and
  // TRAINING_CODE (InstantiateRequest::training_code); unknown for other names.
  ConstValue layout_constant(std::string_view name) const {
    if (name == "DATA_FORMAT") return ConstValue::str(req_.channels_last ? "channels_last" : "channels_first");
    if (name == "CHANNEL_AXIS") return ConstValue::int_value(req_.channels_last ? -1 : 1);
    if (name == "TRAINING_CODE") return ConstValue::boolean(req_.training_code);
    return ConstValue::unknown();
  }

  // The catalog's predicates (catalog/README.md).
  static std::optional<ConstValue> predicate(std::string_view fn, const std::vector<ConstValue>& args) {
    using K = ConstValue::Kind;
    if (fn == "given" && args.size() == 1) return ConstValue::boolean(args[0].kind != K::None);
    if (fn == "is_known" && args.size() == 1) return ConstValue::boolean(args[0].kind != K::Unknown);
    if (fn == "is_int" && args.size() == 1) {
      if (args[0].kind == K::Unknown) return ConstValue::unknown();
      return ConstValue::boolean(args[0].kind == K::Int);
    }
    if (fn == "all_equal" && args.size() == 2) {
      const ConstValue& x = args[0];
      if (x.kind == K::Tuple) {
        for (const ConstValue& item : x.items) {
          auto e = equal(item, args[1]);
          if (!e) return ConstValue::unknown();
          if (!*e) return ConstValue::boolean(false);
        }
        return ConstValue::boolean(true);
      }
      auto e = equal(x, args[1]);
      return e ? ConstValue::boolean(*e) : ConstValue::unknown();
    }
    if (fn == "any_equal" && args.size() == 2) {
      const ConstValue& x = args[0];
      if (x.kind != K::Tuple) {
        auto e = equal(x, args[1]);
        return e ? ConstValue::boolean(*e) : ConstValue::unknown();
      }
      bool unknown = false;
      for (const ConstValue& item : x.items) {
        auto e = equal(item, args[1]);
        if (e && *e) return ConstValue::boolean(true);
        unknown = unknown || !e;
      }
      return unknown ? ConstValue::unknown() : ConstValue::boolean(false);
    }
    if (fn == "same_padding" && args.size() == 4) {
      // PyTorch pads p on both sides; Keras "same" with stride 1 pads
      // total = d*(k-1), total//2 before: equal when d*(k-1) is even and p = d*(k-1)/2,
      // per axis (ints broadcast over the kernel's axes).
      const ConstValue &p = args[0], &k = args[1], &s = args[2], &d = args[3];
      if (!p.known() || !k.known() || !s.known() || !d.known()) return ConstValue::unknown();
      std::size_t n = 1;
      for (const ConstValue* v : {&p, &k, &s, &d})
        if (v->kind == K::Tuple) n = std::max(n, v->items.size());
      auto at = [](const ConstValue& v, std::size_t i) -> std::optional<int64_t> {
        if (v.kind == K::Int) return v.integer;
        if (v.kind == K::Tuple && i < v.items.size() && v.items[i].kind == K::Int) return v.items[i].integer;
        return std::nullopt;
      };
      for (std::size_t i = 0; i < n; ++i) {
        auto pi = at(p, i), ki = at(k, i), si = at(s, i), di = at(d, i);
        if (!pi || !ki || !si || !di) return ConstValue::boolean(false);
        int64_t total = *di * (*ki - 1);
        if (*si != 1 || total % 2 != 0 || *pi != total / 2) return ConstValue::boolean(false);
      }
      return ConstValue::boolean(true);
    }
    return std::nullopt;
  }

  std::string format_message(const ast::ExprNode* msg) {
    auto* c = ast::as<ast::Constant>(msg);
    if (c == nullptr) return "unsupported argument";
    std::string text(c->value.text), out;
    for (std::size_t i = 0; i < text.size(); ++i) {
      if (text[i] == '{') {
        std::size_t close = text.find('}', i);
        if (close != std::string::npos) {
          auto it = bindings_.find(text.substr(i + 1, close - i - 1));
          if (it != bindings_.end() && it->second.expr != nullptr) {
            out += syntax::unparse(it->second.expr);
            i = close;
            continue;
          }
        }
      }
      out += text[i];
    }
    return out;
  }

  InstantiateResult finish(ast::ExprNode* form, InstantiateResult& result) {
    result.expr = fold(substitute(tuple_form(form, result.tuple), result), b_);
    return result;
  }

  // `form` without the catalog's `tuple(...)` mark of a call returning a tuple of
  // tensors; `tuple` tells whether the form's value is such a tuple (instantiate.h).
  static ast::ExprNode* tuple_form(ast::ExprNode* form, bool& tuple) {
    auto* c = ast::as<ast::Call>(form);
    auto* fn = c != nullptr ? ast::as<ast::Name>(c->func) : nullptr;
    if (fn != nullptr && fn->id == "tuple" && c->args.size() == 1 && c->keywords.empty()) {
      tuple = true;
      return c->args[0];
    }
    tuple = ast::is<ast::Tuple>(form);
    return form;
  }

  // A copy of the template `e` with parameters and layout constants replaced.
  ast::ExprNode* substitute(ast::ExprNode* e, InstantiateResult& result) {
    if (e == nullptr) return nullptr;
    switch (e->kind) {
      case ast::NodeKind::Name: {
        auto* n = static_cast<ast::Name*>(e);
        auto it = bindings_.find(std::string(n->id));
        if (it != bindings_.end()) return it->second.expr;
        if (ConstValue v = layout_constant(n->id); v.known()) return b_.literal(v);
        if (n->id == "SPATIAL_AXES") {
          std::vector<ast::ExprNode*> axes;
          int rank = req_.rank > 0 ? req_.rank : 4;
          for (int i = 0; i < rank - 2; ++i) axes.push_back(b_.integer(req_.channels_last ? i + 1 : i + 2));
          return b_.tuple(axes);
        }
        if (n->id.starts_with("PyTorch") || n->id.starts_with("pytorch_")) result.helpers.emplace_back(n->id);
        return e;
      }
      case ast::NodeKind::Call: {
        auto* c = b_.clone(static_cast<ast::Call*>(e));
        c->func = substitute(c->func, result);
        std::vector<ast::ExprNode*> args;
        for (ast::ExprNode* a : c->args) args.push_back(substitute(a, result));
        std::vector<ast::Keyword*> kws;
        for (ast::Keyword* kw : c->keywords) kws.push_back(b_.keyword(kw->arg, substitute(kw->value, result)));
        c->args = b_.seq(args);
        c->keywords = b_.seq(kws);
        return c;
      }
      case ast::NodeKind::Attribute: {
        auto* a = b_.clone(static_cast<ast::Attribute*>(e));
        a->value = substitute(a->value, result);
        return a;
      }
      case ast::NodeKind::Subscript: {
        auto* s = b_.clone(static_cast<ast::Subscript*>(e));
        s->value = substitute(s->value, result);
        s->slice = substitute(s->slice, result);
        return s;
      }
      case ast::NodeKind::BinOp: {
        auto* o = b_.clone(static_cast<ast::BinOp*>(e));
        o->left = substitute(o->left, result);
        o->right = substitute(o->right, result);
        return o;
      }
      case ast::NodeKind::UnaryOp: {
        auto* o = b_.clone(static_cast<ast::UnaryOp*>(e));
        o->operand = substitute(o->operand, result);
        return o;
      }
      case ast::NodeKind::BoolOp: {
        auto* o = b_.clone(static_cast<ast::BoolOp*>(e));
        std::vector<ast::ExprNode*> values;
        for (ast::ExprNode* v : o->values) values.push_back(substitute(v, result));
        o->values = b_.seq(values);
        return o;
      }
      case ast::NodeKind::Compare: {
        auto* o = b_.clone(static_cast<ast::Compare*>(e));
        o->left = substitute(o->left, result);
        std::vector<ast::ExprNode*> cs;
        for (ast::ExprNode* v : o->comparators) cs.push_back(substitute(v, result));
        o->comparators = b_.seq(cs);
        return o;
      }
      case ast::NodeKind::IfExp: {
        auto* o = b_.clone(static_cast<ast::IfExp*>(e));
        o->test = substitute(o->test, result);
        o->body = substitute(o->body, result);
        o->orelse = substitute(o->orelse, result);
        return o;
      }
      case ast::NodeKind::List:
      case ast::NodeKind::Tuple: {
        bool is_list = e->kind == ast::NodeKind::List;
        auto elts = is_list ? static_cast<ast::List*>(e)->elts : static_cast<ast::Tuple*>(e)->elts;
        std::vector<ast::ExprNode*> out;
        for (ast::ExprNode* v : elts) out.push_back(substitute(v, result));
        if (is_list) return b_.list(out);
        return b_.tuple(out);
      }
      case ast::NodeKind::Starred: {
        auto* s = b_.clone(static_cast<ast::Starred*>(e));
        s->value = substitute(s->value, result);
        return s;
      }
      default:
        return e;
    }
  }

  const InstantiateRequest& req_;
  Builder& b_;
  std::unordered_map<std::string, Binding> bindings_;

 public:
  // The entry as a Python function with PyTorch's signature whose body decides at
  // run time what the compile-time walk decides for constant arguments.
  ast::FunctionDef* factory(InstantiateResult& result) {
    const ast::FunctionDef* def = req_.entry->def;
    auto bind_name = [&](const ast::Arg* a) {
      Binding bnd;
      bnd.name = a->arg;
      bnd.expr = b_.name(a->arg);
      bindings_.emplace(std::string(a->arg), bnd);
    };
    for (ast::Arg* a : def->args->posonlyargs) bind_name(a);
    for (ast::Arg* a : def->args->args) bind_name(a);
    for (ast::Arg* a : def->args->kwonlyargs) bind_name(a);
    if (def->args->vararg) bind_name(def->args->vararg);
    if (def->args->kwarg) bind_name(def->args->kwarg);
    std::string torch_path = req_.entry->keys.empty() ? std::string(def->name) : req_.entry->keys[0];
    std::vector<ast::StmtNode*> body;
    // The first words name the torch function or class: the runtime recognises
    // F.relu / F.gelu passed as values by them (_t2k_relu_or_gelu).
    bool module = req_.entry->kind == catalog::EntryKind::Module;
    body.push_back(b_.expr_stmt(b_.string("`" + torch_path + "` with PyTorch's arguments, " +
                                          (module ? "as a Keras layer." : "in Keras."))));
    for (ast::StmtNode* stmt : def->body) {
      if (auto* e = ast::as<ast::Expr>(stmt)) {
        auto* call = ast::as<ast::Call>(e->value);
        auto* fn = call ? ast::as<ast::Name>(call->func) : nullptr;
        if (fn == nullptr || fn->id != "require" || call->args.size() != 2) continue;
        ast::ExprNode* test = runtime(call->args[0], result);
        body.push_back(b_.if_stmt(b_.not_(test), {b_.raise_stmt(b_.call("ValueError", {message(call->args[1], torch_path)}))}));
        continue;
      }
      if (auto* i = ast::as<ast::If>(stmt)) {
        auto* r = i->body.empty() ? nullptr : ast::as<ast::Return>(i->body.back());
        if (r == nullptr) continue;
        bool tuple = false;
        ast::ExprNode* form = fold(substitute(tuple_form(r->value, tuple), result), b_);
        body.push_back(b_.if_stmt(runtime(i->test, result), {b_.return_stmt(form)}));
        continue;
      }
      if (auto* r = ast::as<ast::Return>(stmt)) {
        bool tuple = false;
        body.push_back(b_.return_stmt(fold(substitute(tuple_form(r->value, tuple), result), b_)));
        break;
      }
    }
    auto* f = b_.clone(def);
    f->loc = {};  // generated: no source position, so no comments of the input attach to it
    f->decorator_list = {};
    f->returns = nullptr;
    f->body = b_.seq(body);
    return f;
  }

 private:
  // A condition of the entry for run time: the predicates become runtime helpers.
  ast::ExprNode* runtime(ast::ExprNode* cond, InstantiateResult& result) {
    ast::ExprNode* e = substitute(cond, result);
    rename_predicates(e, result);
    return e;
  }

  void rename_predicates(ast::Node* n, InstantiateResult& result) {
    if (n == nullptr) return;
    if (auto* c = ast::as<ast::Call>(n)) {
      if (auto* fn = ast::as<ast::Name>(c->func); fn && (fn->id == "same_padding" || fn->id == "all_equal" || fn->id == "is_int")) {
        std::string helper = "_t2k_" + std::string(fn->id);
        result.helpers.push_back(helper);
        c->func = b_.name(helper);
      }
    }
    ast::for_each_child(n, [&](ast::Node* child) { rename_predicates(child, result); });
  }

  // "torch.nn.X: message", with {param} placeholders filled in when it runs.
  ast::ExprNode* message(const ast::ExprNode* msg, const std::string& torch_path) {
    auto* c = ast::as<ast::Constant>(msg);
    std::string text = torch_path + ": " + (c ? std::string(c->value.text) : "unsupported argument");
    std::vector<ast::Keyword*> kws;
    for (std::size_t i = text.find('{'); i != std::string::npos; i = text.find('{', i + 1)) {
      std::size_t close = text.find('}', i);
      if (close == std::string::npos) break;
      std::string name = text.substr(i + 1, close - i - 1);
      bool seen = false;
      for (ast::Keyword* k : kws) seen = seen || k->arg == name;
      if (!seen && bindings_.count(name)) kws.push_back(b_.keyword(name, b_.name(name)));
    }
    ast::ExprNode* str = b_.string(text);
    if (kws.empty()) return str;
    return b_.call(b_.attr(str, "format"), {}, kws);
  }
};

bool is_literal(const ast::ExprNode* e) {
  if (ast::is<ast::Constant>(e)) return true;
  if (auto* u = ast::as<ast::UnaryOp>(e)) return u->op == ast::UnaryOpKind::USub && ast::is<ast::Constant>(u->operand);
  return false;
}

}  // namespace

ast::ExprNode* fold(ast::ExprNode* e, Builder& b) {
  if (e == nullptr) return e;
  switch (e->kind) {
    case ast::NodeKind::BinOp: {
      auto* o = static_cast<ast::BinOp*>(e);
      o->left = fold(o->left, b);
      o->right = fold(o->right, b);
      if (is_literal(o->left) && is_literal(o->right)) {
        ConstValue v = analysis::literal_value(o);
        if (v.known() && v.is_number()) return b.literal(v);
      }
      return o;
    }
    case ast::NodeKind::BoolOp:
    case ast::NodeKind::Compare:
    case ast::NodeKind::UnaryOp: {
      ConstValue v = analysis::literal_value(e);
      if (v.known() && (v.kind == ConstValue::Kind::Bool || v.is_number())) return b.literal(v);
      if (auto* o = ast::as<ast::BoolOp>(e)) {
        std::vector<ast::ExprNode*> values;
        for (ast::ExprNode* x : o->values) values.push_back(fold(x, b));
        // `True and x` is `x` (the catalog's `elementwise_affine and bias`).
        std::vector<ast::ExprNode*> kept;
        for (ast::ExprNode* x : values) {
          ConstValue xv = analysis::literal_value(x);
          auto t = xv.truth();
          bool neutral = t && (o->op == ast::BoolOpKind::And ? *t : !*t) && xv.kind == ConstValue::Kind::Bool;
          if (!neutral) kept.push_back(x);
        }
        if (kept.size() == 1) return kept[0];
        if (!kept.empty()) o->values = b.seq(kept);
      }
      return e;
    }
    case ast::NodeKind::IfExp: {
      auto* o = static_cast<ast::IfExp*>(e);
      auto t = analysis::literal_value(o->test).truth();
      if (t) return fold(*t ? o->body : o->orelse, b);
      o->body = fold(o->body, b);
      o->orelse = fold(o->orelse, b);
      return o;
    }
    case ast::NodeKind::Call: {
      auto* c = static_cast<ast::Call*>(e);
      std::vector<ast::ExprNode*> args;
      for (ast::ExprNode* a : c->args) {
        // f(*(x, y)) is f(x, y): a `*operands` form given its operands one by one.
        auto* star = ast::as<ast::Starred>(a);
        auto* items = star != nullptr ? ast::as<ast::Tuple>(star->value) : nullptr;
        auto* list = star != nullptr ? ast::as<ast::List>(star->value) : nullptr;
        if (items == nullptr && list == nullptr) {
          args.push_back(fold(a, b));
          continue;
        }
        for (ast::ExprNode* x : items ? items->elts : list->elts) args.push_back(fold(x, b));
      }
      c->args = b.seq(args);
      std::string callee = callee_path(c->func);
      // Forms nested by substitution that undo each other: ops.transpose of a
      // matrix's ops.transpose (F.linear of a Dense weight read), the shape of a
      // fresh tensor of a given shape (torch.empty(s).normal_()).
      if (auto* inner = args.size() == 1 && c->keywords.empty() ? ast::as<ast::Call>(args[0]) : nullptr;
          inner && inner->keywords.empty() && inner->args.size() == 1) {
        std::string inner_callee = callee_path(inner->func);
        if (callee == "ops.transpose" && inner_callee == "ops.transpose") return inner->args[0];
        if (callee == "ops.shape" && (inner_callee == "ops.empty" || inner_callee == "ops.zeros" ||
                                      inner_callee == "ops.ones"))
          return inner->args[0];
      }
      const auto& catalog = catalog::Catalog::instance();
      std::vector<ast::Keyword*> kws;
      for (ast::Keyword* kw : c->keywords) {
        kw->value = fold(kw->value, b);
        if (kw->arg.data() != nullptr) {
          if (const ConstValue* d = catalog.keras_default(callee, kw->arg)) {
            ConstValue v = analysis::literal_value(kw->value);
            auto eq = equal(v, *d);
            if (eq && *eq && v.kind == d->kind) continue;
            if (eq && *eq && v.is_number() && d->is_number() && v.kind != ConstValue::Kind::Bool &&
                d->kind != ConstValue::Kind::Bool)
              continue;
          }
        }
        kws.push_back(kw);
      }
      c->keywords = b.seq(kws);
      return c;
    }
    case ast::NodeKind::Subscript: {
      // An item or slice of a literal sequence (`dims[1:]` of dims=[0, 2, 3, 1]).
      auto* s = static_cast<ast::Subscript*>(e);
      s->value = fold(s->value, b);
      ConstValue v = analysis::literal_value(s);
      if (ast::ExprNode* lit = v.known() ? b.literal(v) : nullptr) return lit;
      return s;
    }
    case ast::NodeKind::List:
    case ast::NodeKind::Tuple: {
      auto& elts = e->kind == ast::NodeKind::List ? static_cast<ast::List*>(e)->elts
                                                  : static_cast<ast::Tuple*>(e)->elts;
      for (ast::ExprNode*& x : elts) x = fold(x, b);
      return e;
    }
    default:
      return e;
  }
}

namespace {

// The parameter `param` of `entry`: its position among the arguments a call
// passes (self excluded for methods, -1 when keyword-only) and its default.
struct ParamSlot {
  bool found = false;
  int position = -1;
  const ast::ExprNode* default_value = nullptr;
};

ParamSlot param_slot(const catalog::Entry& entry, std::string_view param) {
  const ast::Arguments* a = entry.def->args;
  std::vector<ast::Arg*> positional;
  for (ast::Arg* p : a->posonlyargs) positional.push_back(p);
  for (ast::Arg* p : a->args) positional.push_back(p);
  std::size_t offset = entry.kind == catalog::EntryKind::Method ? 1 : 0;
  std::size_t first_default = positional.size() - a->defaults.size();
  for (std::size_t i = 0; i < positional.size(); ++i) {
    if (positional[i]->arg != param) continue;
    ParamSlot slot{true, i >= offset ? static_cast<int>(i - offset) : -1, nullptr};
    if (i >= first_default) slot.default_value = a->defaults[i - first_default];
    return slot;
  }
  for (std::size_t i = 0; i < a->kwonlyargs.size(); ++i)
    if (a->kwonlyargs[i]->arg == param) return {true, -1, a->kw_defaults[i]};
  return {};
}

}  // namespace

const ast::ExprNode* bound_expr(const catalog::Entry& entry, const ast::Call& call, std::string_view param) {
  ParamSlot slot = param_slot(entry, param);
  if (!slot.found) return nullptr;
  for (const ast::ExprNode* arg : call.args)
    if (ast::is<ast::Starred>(arg)) return nullptr;
  for (const ast::Keyword* kw : call.keywords) {
    if (kw->arg.data() == nullptr) return nullptr;
    if (kw->arg == param) return kw->value;
  }
  if (slot.position >= 0 && static_cast<std::size_t>(slot.position) < call.args.size())
    return call.args[static_cast<std::size_t>(slot.position)];
  return nullptr;
}

analysis::ConstValue bound_literal(const catalog::Entry& entry, const ast::Call& call, std::string_view param) {
  ParamSlot slot = param_slot(entry, param);
  if (!slot.found) return analysis::ConstValue::unknown();
  for (const ast::ExprNode* arg : call.args)
    if (ast::is<ast::Starred>(arg)) return analysis::ConstValue::unknown();
  for (const ast::Keyword* kw : call.keywords)
    if (kw->arg.data() == nullptr) return analysis::ConstValue::unknown();
  if (const ast::ExprNode* e = bound_expr(entry, call, param)) return analysis::literal_value(e);
  return slot.default_value != nullptr ? analysis::literal_value(slot.default_value) : analysis::ConstValue::unknown();
}

InstantiateResult instantiate(const InstantiateRequest& request, Builder& builder) {
  return Instantiator(request, builder).run();
}

ast::FunctionDef* make_factory(const catalog::Entry* entry, bool channels_last, bool training_code, Builder& builder,
                               std::vector<std::string>& helpers) {
  InstantiateRequest req;
  req.entry = entry;
  req.channels_last = channels_last;
  req.training_code = training_code;
  req.rank = entry->rank;
  InstantiateResult result;
  ast::FunctionDef* f = Instantiator(req, builder).factory(result);
  for (auto& h : result.helpers) helpers.push_back(h);
  return f;
}

}  // namespace t2k::lowering
