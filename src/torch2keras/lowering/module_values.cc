// Module values (see module_values.h).
#include "torch2keras/lowering/module_values.h"

#include <functional>

namespace t2k::lowering {
namespace {

using analysis::ClassInfo;
using analysis::ConstValue;

constexpr int kMaxDepth = 200;

// Calls `visit` for every statement of `body`, descending into compound
// statements (if/for/while/with/try) but not into nested functions or classes.
// `nested` is true below a loop or a branch.
void for_each_stmt(ast::Seq<ast::StmtNode*> body, const std::function<void(const ast::StmtNode*, bool)>& visit,
                   bool nested = false) {
  for (const ast::StmtNode* s : body) {
    visit(s, nested);
    switch (s->kind) {
      case ast::NodeKind::If: {
        auto* i = static_cast<const ast::If*>(s);
        for_each_stmt(i->body, visit, true);
        for_each_stmt(i->orelse, visit, true);
        break;
      }
      case ast::NodeKind::For: {
        auto* f = static_cast<const ast::For*>(s);
        for_each_stmt(f->body, visit, true);
        for_each_stmt(f->orelse, visit, true);
        break;
      }
      case ast::NodeKind::While: {
        auto* w = static_cast<const ast::While*>(s);
        for_each_stmt(w->body, visit, true);
        for_each_stmt(w->orelse, visit, true);
        break;
      }
      case ast::NodeKind::With:
        for_each_stmt(static_cast<const ast::With*>(s)->body, visit, nested);
        break;
      case ast::NodeKind::Try: {
        auto* t = static_cast<const ast::Try*>(s);
        for_each_stmt(t->body, visit, true);
        for_each_stmt(t->orelse, visit, true);
        for_each_stmt(t->finalbody, visit, true);
        break;
      }
      default:
        break;
    }
  }
}

ModuleDesc unknown() { return {}; }

// No value (yet): an empty union. A use of it is reported like Unknown.
ModuleDesc bottom() {
  ModuleDesc u;
  u.kind = ModuleDesc::Union;
  return u;
}

bool is_bottom(const ModuleDesc& d) { return d.kind == ModuleDesc::Union && d.items.empty(); }

ModuleDesc make_union(std::vector<ModuleDesc> alts) {
  ModuleDesc u = bottom();
  for (ModuleDesc& a : alts) u = join(std::move(u), a);
  return u;
}

// A ModuleDict key written as a string literal; "" (no constant key) otherwise.
std::string string_key(const ast::ExprNode* e) {
  ConstValue k = analysis::literal_value(e);
  return k.kind == ConstValue::Kind::Str ? k.text : std::string();
}

// Adds the items of dict of modules `more` to `d` (also a dict), after its own.
void add_keyed(ModuleDesc& d, const ModuleDesc& more) {
  d.items.insert(d.items.end(), more.items.begin(), more.items.end());
  d.keys.insert(d.keys.end(), more.keys.begin(), more.keys.end());
  d.dynamic = d.dynamic || more.dynamic;
}

// `self.a`, `self.a.b`, `self.a[0].b`: a path of attributes and items from self.
bool rooted_at_self(const ast::ExprNode* e) {
  while (true) {
    if (auto* a = ast::as<ast::Attribute>(e)) e = a->value;
    else if (auto* s = ast::as<ast::Subscript>(e)) e = s->value;
    else return is_self(e);
  }
}

// Calls `visit(name, value, fn)` for each `self.<name> = value` (plain or
// annotated) and `self.add_module("<name>", value)` in the methods of `c`.
template <class Visit>
void for_each_attr_setting(const ClassInfo* c, const Visit& visit) {
  for (ast::StmtNode* s : c->node->body) {
    auto* f = ast::as<ast::FunctionDef>(s);
    if (f == nullptr) continue;
    for_each_stmt(f->body, [&](const ast::StmtNode* st, bool) {
      auto set = [&](const ast::ExprNode* target, const ast::ExprNode* value) {
        auto* at = ast::as<ast::Attribute>(target);
        if (at != nullptr && is_self(at->value)) visit(at->attr, value, f);
      };
      if (auto* a = ast::as<ast::Assign>(st)) {
        for (ast::ExprNode* t : a->targets) set(t, a->value);
      } else if (auto* a = ast::as<ast::AnnAssign>(st); a && a->value) {
        set(a->target, a->value);
      } else if (auto* e = ast::as<ast::Expr>(st)) {
        auto* call = ast::as<ast::Call>(e->value);
        auto* m = call ? ast::as<ast::Attribute>(call->func) : nullptr;
        if (m && is_self(m->value) && (m->attr == "add_module" || m->attr == "register_module") &&
            call->args.size() == 2) {
          ConstValue k = analysis::literal_value(call->args[0]);
          if (k.kind == ConstValue::Kind::Str) visit(k.text, call->args[1], f);
        }
        // setattr(self, "stage2", m); setattr(self, name, m) with a computed name
        // sets the wildcard "*": any attribute the class sets nowhere else.
        auto* fn = call ? ast::as<ast::Name>(call->func) : nullptr;
        if (fn && fn->id == "setattr" && call->args.size() == 3 && is_self(call->args[0])) {
          ConstValue k = analysis::literal_value(call->args[1]);
          visit(k.kind == ConstValue::Kind::Str ? std::string_view(k.text) : std::string_view("*"), call->args[2], f);
        }
      }
    });
  }
}

}  // namespace

bool is_self(const ast::ExprNode* e) {
  auto* n = ast::as<ast::Name>(e);
  return n != nullptr && n->id == "self";
}

bool is_super_init(const ast::Call* call) {
  auto* a = ast::as<ast::Attribute>(call->func);
  auto* sup = a ? ast::as<ast::Call>(a->value) : nullptr;
  auto* sn = sup ? ast::as<ast::Name>(sup->func) : nullptr;
  return sn != nullptr && sn->id == "super" && a->attr == "__init__";
}

std::vector<const ModuleDesc*> ModuleDesc::alternatives() const {
  std::vector<const ModuleDesc*> out;
  if (kind == Union) {
    for (const ModuleDesc& i : items)
      if (i.kind != None) out.push_back(&i);
  } else if (kind != None) {
    out.push_back(this);
  }
  return out;
}

bool ModuleDesc::same_structure(const ModuleDesc& o) const {
  if (kind != o.kind || entry != o.entry || cls != o.cls || dynamic != o.dynamic || dict != o.dict ||
      keys != o.keys || items.size() != o.items.size())
    return false;
  if ((kind == Leaf || kind == User) && ctor != o.ctor) return false;
  for (std::size_t i = 0; i < items.size(); ++i)
    if (!items[i].same_structure(o.items[i])) return false;
  return true;
}

ModuleDesc join(ModuleDesc a, const ModuleDesc& b) {
  // Unknown absorbs: a value that may be anything.
  if (a.kind == ModuleDesc::Unknown) return a;
  if (b.kind == ModuleDesc::Unknown) return b;
  if (a.kind != ModuleDesc::Union) {
    ModuleDesc u;
    u.kind = ModuleDesc::Union;
    u.items.push_back(std::move(a));
    a = std::move(u);
  }
  auto add = [&a](const ModuleDesc& x) {
    for (const ModuleDesc& y : a.items)
      if (y.same_structure(x)) return;
    a.items.push_back(x);
  };
  if (b.kind == ModuleDesc::Union) {
    for (const ModuleDesc& x : b.items) add(x);
  } else {
    add(b);
  }
  if (a.items.size() == 1) return a.items[0];
  return a;
}

bool module_dict(const ModuleDesc& d) {
  std::vector<const ModuleDesc*> alts = d.alternatives();
  if (alts.empty()) return false;
  for (const ModuleDesc* a : alts)
    if (a->kind != ModuleDesc::List || !a->dict) return false;
  return true;
}

std::optional<ModuleDesc> dict_item(const ModuleDesc& d, std::string_view key) {
  if (!module_dict(d)) return unknown();
  std::vector<ModuleDesc> found;
  for (const ModuleDesc* a : d.alternatives())
    for (std::size_t i = 0; i < a->items.size(); ++i)
      if (i >= a->keys.size() || a->keys[i] == key || a->keys[i].empty()) found.push_back(a->items[i]);
  if (found.empty()) return std::nullopt;
  return make_union(std::move(found));
}

ModuleValues::ModuleValues(const ast::Module* module, const analysis::ImportScope& scope,
                           const std::vector<ClassInfo>& classes, const catalog::Catalog& catalog)
    : module_(module), scope_(scope), classes_(classes), catalog_(catalog) {
  // Every call, with its enclosing function and class.
  const ast::ClassDef* enclosing = nullptr;
  std::function<void(const ast::Node*, const ast::FunctionDef*, const ClassInfo*)> walk =
      [&](const ast::Node* n, const ast::FunctionDef* fn, const ClassInfo* cls) {
        if (n == nullptr) return;
        if (auto* c = ast::as<ast::Call>(n)) sites_.push_back({c, fn, cls});
        if (auto* f = ast::as<ast::FunctionDef>(n); f != nullptr && f != fn) {
          owner_[f] = cls;
          if (enclosing != nullptr) enclosing_class_[f] = enclosing;
          fn = f;
        }
        ast::for_each_child(const_cast<ast::Node*>(n), [&](ast::Node* child) { walk(child, fn, cls); });
      };
  for (const ast::StmtNode* s : module_->body) {
    if (auto* cd = ast::as<ast::ClassDef>(s)) {
      const ClassInfo* ci = model_class(cd->name);
      enclosing = cd;
      for (const ast::StmtNode* x : cd->body) walk(x, nullptr, ci);
      enclosing = nullptr;
    } else {
      walk(s, nullptr, nullptr);
    }
  }
}

std::optional<std::string> ModuleValues::resolve(const ast::ExprNode* e) const {
  return scope_.resolve(e, [this](std::string_view p) { return catalog_.knows_path(p); });
}

const ClassInfo* ModuleValues::model_class(std::string_view name) const {
  for (const ClassInfo& c : classes_)
    if (c.torch_base != analysis::TorchBase::None && c.node->name == name) return &c;
  return nullptr;
}

const ClassInfo* ModuleValues::base_model_class(const ClassInfo* cls) const {
  for (ast::ExprNode* e : cls->node->bases)
    if (auto* n = ast::as<ast::Name>(e))
      if (const ClassInfo* base = model_class(n->id)) return base;
  return nullptr;
}

const ast::FunctionDef* ModuleValues::method(const ClassInfo* cls, std::string_view name) const {
  for (const ClassInfo* c = cls; c != nullptr; c = base_model_class(c)) {
    const ast::FunctionDef* found = nullptr;
    // The last definition wins (earlier ones may be @overload stubs).
    for (ast::StmtNode* s : c->node->body)
      if (auto* f = ast::as<ast::FunctionDef>(s); f != nullptr && f->name == name) found = f;
    if (found != nullptr) return found;
  }
  return nullptr;
}

const ast::FunctionDef* ModuleValues::module_function(std::string_view name) const {
  const ast::FunctionDef* found = nullptr;
  for (ast::StmtNode* s : module_->body)
    if (auto* f = ast::as<ast::FunctionDef>(s); f != nullptr && f->name == name) found = f;
  return found;
}

// ---------------------------------------------------------------------------

ModuleDesc ModuleValues::eval(const ast::ExprNode* e, const Ctx& ctx) {
  if (e == nullptr || ctx.depth > kMaxDepth) return unknown();
  Ctx inner = ctx;
  ++inner.depth;
  switch (e->kind) {
    case ast::NodeKind::Constant: {
      ModuleDesc d;
      if (static_cast<const ast::Constant*>(e)->value.kind == ast::ConstantValue::Kind::None)
        d.kind = ModuleDesc::None;
      return d;
    }
    case ast::NodeKind::Call:
      return eval_call(static_cast<const ast::Call*>(e), inner);
    case ast::NodeKind::Name:
    case ast::NodeKind::Attribute: {
      if (auto p = resolve(e)) {
        ModuleDesc d;
        if (const catalog::Entry* entry = catalog_.find_module(*p)) {
          d.kind = ModuleDesc::LeafClass;
          d.entry = entry;
        }
        return d;
      }
      if (auto* n = ast::as<ast::Name>(e)) {
        if (const ClassInfo* c = model_class(n->id)) {
          ModuleDesc d;
          d.kind = ModuleDesc::UserClass;
          d.cls = c;
          return d;
        }
        return eval_name(n->id, inner);
      }
      auto* a = static_cast<const ast::Attribute*>(e);
      if (is_self(a->value) && ctx.cls != nullptr) {
        if (auto d = attr(ctx.cls, a->attr)) return *d;
      }
      // self.transformer.wte: a module of a ModuleDict; self.encoder.proj: an
      // attribute of a model class's instance. Else (self.cfg.block) a field.
      if (rooted_at_self(a->value) && !is_self(a->value)) {
        ModuleDesc owner = eval(a->value, inner);
        if (module_dict(owner)) return dict_item(owner, a->attr).value_or(unknown());
        if (owner.kind == ModuleDesc::User && owner.cls != nullptr && method(owner.cls, a->attr) == nullptr)
          return attr(owner.cls, a->attr).value_or(unknown());
      }
      if (!is_self(a->value)) {
        // ae.encoder: a module of a model instance a name holds (`Head(ae.encoder)`,
        // a trained part reused).
        if (ast::is<ast::Name>(a->value)) {
          ModuleDesc owner = eval(a->value, inner);
          if (owner.kind == ModuleDesc::User && owner.cls != nullptr && method(owner.cls, a->attr) == nullptr)
            if (auto d = attr(owner.cls, a->attr)) return *d;
        }
        return field_values(a->attr, inner);
      }
      return unknown();
    }
    case ast::NodeKind::IfExp: {
      auto* i = static_cast<const ast::IfExp*>(e);
      return make_union({eval(i->body, inner), eval(i->orelse, inner)});
    }
    case ast::NodeKind::BoolOp: {
      std::vector<ModuleDesc> alts;
      for (ast::ExprNode* v : static_cast<const ast::BoolOp*>(e)->values) alts.push_back(eval(v, inner));
      return make_union(std::move(alts));
    }
    case ast::NodeKind::List:
    case ast::NodeKind::Tuple: {
      auto elts = e->kind == ast::NodeKind::List ? static_cast<const ast::List*>(e)->elts
                                                 : static_cast<const ast::Tuple*>(e)->elts;
      ModuleDesc d;
      d.kind = ModuleDesc::List;
      for (ast::ExprNode* x : elts) {
        if (auto* st = ast::as<ast::Starred>(x)) {
          ModuleDesc inner_list = eval(st->value, inner);
          d.dynamic = d.dynamic || inner_list.dynamic;
          for (auto& i : inner_list.items) d.items.push_back(i);
        } else {
          d.items.push_back(eval(x, inner));
        }
      }
      return d;
    }
    case ast::NodeKind::Dict: {
      // {"seg": nn.Conv2d(...), **more} (a ModuleDict's argument): its values, by key.
      auto* dict = static_cast<const ast::Dict*>(e);
      ModuleDesc d;
      d.kind = ModuleDesc::List;
      d.dict = true;
      for (std::size_t i = 0; i < dict->values.size(); ++i) {
        if (dict->keys[i] == nullptr) {
          ModuleDesc more = eval(dict->values[i], inner);
          if (more.kind != ModuleDesc::List || !more.dict) return unknown();
          add_keyed(d, more);
          continue;
        }
        d.items.push_back(eval(dict->values[i], inner));
        d.keys.push_back(string_key(dict->keys[i]));
      }
      return d;
    }
    case ast::NodeKind::ListComp: {
      ModuleDesc d;
      d.kind = ModuleDesc::List;
      d.dynamic = true;
      d.items.push_back(eval(static_cast<const ast::ListComp*>(e)->elt, inner));
      return d;
    }
    case ast::NodeKind::BinOp: {
      // [a, b] + layers
      auto* b = static_cast<const ast::BinOp*>(e);
      if (b->op != ast::OperatorKind::Add) return unknown();
      ModuleDesc l = eval(b->left, inner), r = eval(b->right, inner);
      if (l.kind != ModuleDesc::List || r.kind != ModuleDesc::List) return unknown();
      for (auto& i : r.items) l.items.push_back(i);
      l.dynamic = l.dynamic || r.dynamic;
      return l;
    }
    case ast::NodeKind::Subscript: {
      // blocks[0], self.features[-1]: the item at a constant index of a list with
      // a fixed layout, else any item. Indexing None never runs (bottom).
      auto* sub = static_cast<const ast::Subscript*>(e);
      ModuleDesc container = eval(sub->value, inner);
      ConstValue index = analysis::literal_value(sub->slice);
      if (index.kind == ConstValue::Kind::Str && module_dict(container))
        return dict_item(container, index.text).value_or(unknown());
      std::vector<ModuleDesc> alts;
      for (const ModuleDesc* c : container.alternatives()) {
        if (c->kind != ModuleDesc::List && c->kind != ModuleDesc::Seq) return unknown();
        auto n = static_cast<int64_t>(c->items.size());
        int64_t k = index.kind == ConstValue::Kind::Int ? (index.integer < 0 ? index.integer + n : index.integer) : -1;
        if (!c->dynamic && k >= 0 && k < n) alts.push_back(c->items[static_cast<std::size_t>(k)]);
        else alts.insert(alts.end(), c->items.begin(), c->items.end());
      }
      return make_union(std::move(alts));
    }
    default:
      return unknown();
  }
}

// `cnf.block` on an object that is not a module (a config): the values the
// input's plain classes give that attribute: `self.block = v` in their methods,
// and for a dataclass-style field `block: T` its default and the argument for it
// in every call of the class (or `super().__init__` of a subclass). Objects made
// outside the input are not visible (as with **kwargs). Unknown when no plain
// class of the input sets the attribute.
ModuleDesc ModuleValues::field_values(std::string_view name, const Ctx& ctx) {
  std::string key("field.");
  key.append(name);
  return guarded({module_, key}, true, [&] {
    std::vector<ModuleDesc> alts;
    bool found = false;
    for (const ast::StmtNode* st : module_->body) {
      auto* cd = ast::as<ast::ClassDef>(st);
      if (cd == nullptr || model_class(cd->name) != nullptr) continue;
      int field = -1, fields = 0;
      for (ast::StmtNode* x : cd->body) {
        if (auto* f = ast::as<ast::FunctionDef>(x)) {
          for_each_stmt(f->body, [&](const ast::StmtNode* y, bool) {
            auto* a = ast::as<ast::Assign>(y);
            if (a == nullptr) return;
            for (ast::ExprNode* t : a->targets) {
              auto* at = ast::as<ast::Attribute>(t);
              if (at && is_self(at->value) && at->attr == name) {
                found = true;
                alts.push_back(eval(a->value, {f, nullptr, nullptr, ctx.depth + 1}));
              }
            }
          });
        } else if (auto* a = ast::as<ast::AnnAssign>(x); a && ast::is<ast::Name>(a->target)) {
          if (static_cast<const ast::Name*>(a->target)->id == name) {
            field = fields;
            found = true;
            if (a->value) alts.push_back(eval(a->value, {nullptr, nullptr, nullptr, ctx.depth + 1}));
          }
          ++fields;
        }
      }
      if (field < 0) continue;
      // Positional arguments map to fields only for a class without bases.
      bool positional = cd->bases.empty();
      for (const Site& s : sites_) {
        auto* n = ast::as<ast::Name>(s.call->func);
        bool calls = n != nullptr && n->id == cd->name;
        if (!calls && is_super_init(s.call)) {
          auto it = enclosing_class_.find(s.fn);
          if (it != enclosing_class_.end())
            for (ast::ExprNode* b : it->second->bases)
              if (auto* bn = ast::as<ast::Name>(b); bn && bn->id == cd->name) calls = true;
        }
        if (!calls) continue;
        Ctx site{s.fn, s.cls, nullptr, ctx.depth + 1};
        if (positional && static_cast<std::size_t>(field) < s.call->args.size() &&
            !ast::is<ast::Starred>(s.call->args[static_cast<std::size_t>(field)]))
          alts.push_back(eval(s.call->args[static_cast<std::size_t>(field)], site));
        for (ast::Keyword* kw : s.call->keywords)
          if (kw->arg.data() != nullptr && kw->arg == name) alts.push_back(eval(kw->value, site));
      }
    }
    if (!found) return unknown();
    return make_union(std::move(alts));
  });
}

ModuleDesc ModuleValues::eval_call(const ast::Call* call, const Ctx& ctx) {
  // kwargs.pop("norm_layer", default) / kwargs.get(...) on the function's own
  // **kwargs: what callers pass that way is not visible, so the default holds.
  if (auto* m = ast::as<ast::Attribute>(call->func); m && (m->attr == "pop" || m->attr == "get") &&
      call->args.size() == 2 && ctx.fn != nullptr && ctx.fn->args->kwarg != nullptr) {
    auto* recv = ast::as<ast::Name>(m->value);
    if (recv && recv->id == ctx.fn->args->kwarg->arg) return eval(call->args[1], ctx);
  }
  auto p = resolve(call->func);
  // `c = copy.deepcopy` in the function, then `c(attn)` (the Annotated Transformer):
  // a local name given a path once calls that path.
  if (auto* n = ast::as<ast::Name>(call->func); !p && n != nullptr && ctx.fn != nullptr) {
    int assigned = 0;
    for (const ast::StmtNode* st : ctx.fn->body)
      if (auto* a = ast::as<ast::Assign>(st); a && a->targets.size() == 1)
        if (auto* t = ast::as<ast::Name>(a->targets[0]); t && t->id == n->id && ++assigned == 1) p = resolve(a->value);
    if (assigned != 1) p.reset();
  }
  if (p) {
    if (*p == "functools.partial") {
      if (call->args.empty()) return unknown();
      return eval(call->args[0], ctx);
    }
    // weight_norm(module) returns the module, its weight reparametrised.
    if (*p == "torch.nn.utils.weight_norm" || *p == "torch.nn.utils.parametrizations.weight_norm") {
      if (call->args.empty()) return unknown();
      return eval(call->args[0], ctx);
    }
    // copy.deepcopy(module): a module of the same structure with its own weights
    // (the Annotated Transformer's `clones`).
    if (*p == "copy.deepcopy") {
      if (call->args.empty()) return unknown();
      return eval(call->args[0], ctx);
    }
    if (*p == "collections.OrderedDict") return keyed_call(call, ctx);  // OrderedDict([("conv", m), ...])
    if (*p == "torch.nn.Sequential" || *p == "torch.nn.ModuleList") {
      ModuleDesc d;
      d.kind = *p == "torch.nn.Sequential" ? ModuleDesc::Seq : ModuleDesc::List;
      d.ctor = call;
      for (ast::ExprNode* a : call->args) {
        bool starred = ast::is<ast::Starred>(a);
        const ast::ExprNode* v = starred ? static_cast<const ast::Starred*>(a)->value : a;
        ModuleDesc item = eval(v, ctx);
        bool container_arg = starred || d.kind == ModuleDesc::List || item.kind == ModuleDesc::List ||
                             (ast::is<ast::Call>(v) &&
                              resolve(static_cast<const ast::Call*>(v)->func).value_or("") == "collections.OrderedDict");
        if (container_arg) {
          if (item.kind != ModuleDesc::List && item.kind != ModuleDesc::Seq) return unknown();
          d.dynamic = d.dynamic || item.dynamic;
          for (auto& i : item.items) d.items.push_back(i);
        } else {
          d.items.push_back(item);
        }
      }
      return d;
    }
    if (*p == "torch.nn.ModuleDict") {
      // ModuleDict(dict(wte=...)), ModuleDict({"wte": ...}), ModuleDict([("wte", ...)]).
      const ast::ExprNode* modules = call->args.empty() ? nullptr : call->args[0];
      for (ast::Keyword* kw : call->keywords)
        if (kw->arg == "modules") modules = kw->value;
      ModuleDesc d;
      d.kind = ModuleDesc::List;
      d.dict = true;
      d.ctor = call;
      if (call->args.size() > 1 || (modules != nullptr && ast::is<ast::Starred>(modules))) return unknown();
      if (modules != nullptr) {
        ModuleDesc given = keyed_modules(modules, ctx);
        if (given.kind != ModuleDesc::List) return unknown();
        add_keyed(d, given);
      }
      return d;
    }
    if ((p->starts_with("torch.") || *p == "torch") && catalog_.find_module(*p) == nullptr) return unknown();
  }
  if (auto* n = ast::as<ast::Name>(call->func); n && n->id == "dict" && !model_class(n->id) && !module_function(n->id))
    return keyed_call(call, ctx);  // dict(wte=nn.Embedding(...), ...)
  // self.method(...) of this class: what it returns for these arguments.
  if (auto* a = ast::as<ast::Attribute>(call->func); a && is_self(a->value) && ctx.cls != nullptr) {
    if (const ast::FunctionDef* m = method(ctx.cls, a->attr)) return call_function(m, ctx.cls, call, ctx, true);
  }
  if (auto* n = ast::as<ast::Name>(call->func); n && !model_class(n->id)) {
    if (const ast::FunctionDef* f = module_function(n->id)) return call_function(f, nullptr, call, ctx, false);
  }
  return instantiate(eval(call->func, ctx), call, ctx);
}

// A dict of modules given to dict(), OrderedDict(), ModuleDict() or .update():
// a dict of modules itself, or (key, module) pairs, keys read where they are
// string literals (`[("conv", nn.Conv2d(...)), ...]`). Unknown for anything else.
ModuleDesc ModuleValues::keyed_modules(const ast::ExprNode* arg, const Ctx& ctx) {
  ModuleDesc given = eval(arg, ctx);
  if (given.kind != ModuleDesc::List) return unknown();
  if (given.dict) return given;
  ModuleDesc d;
  d.kind = ModuleDesc::List;
  d.dict = true;
  d.dynamic = given.dynamic;
  const ast::List* literal = ast::as<ast::List>(arg);
  if (literal != nullptr && literal->elts.size() != given.items.size()) literal = nullptr;  // *pairs
  for (std::size_t i = 0; i < given.items.size(); ++i) {
    const ModuleDesc& pair = given.items[i];
    if (pair.kind != ModuleDesc::List || pair.items.size() != 2) return unknown();
    auto* t = literal ? ast::as<ast::Tuple>(literal->elts[i]) : nullptr;
    d.items.push_back(pair.items[1]);
    d.keys.push_back(t != nullptr && t->elts.size() == 2 ? string_key(t->elts[0]) : std::string());
  }
  return d;
}

// dict(...) or OrderedDict(...) of modules: a mapping or pairs, then keywords.
ModuleDesc ModuleValues::keyed_call(const ast::Call* call, const Ctx& ctx) {
  ModuleDesc d;
  d.kind = ModuleDesc::List;
  d.dict = true;
  if (call->args.size() > 1) return unknown();
  if (call->args.size() == 1) {
    if (ast::is<ast::Starred>(call->args[0])) return unknown();
    ModuleDesc given = keyed_modules(call->args[0], ctx);
    if (given.kind != ModuleDesc::List) return unknown();
    add_keyed(d, given);
  }
  for (ast::Keyword* kw : call->keywords) {
    if (kw->arg.data() == nullptr || kw->arg.empty()) {  // **mapping
      ModuleDesc more = eval(kw->value, ctx);
      if (more.kind != ModuleDesc::List || !more.dict) return unknown();
      add_keyed(d, more);
      continue;
    }
    d.items.push_back(eval(kw->value, ctx));
    d.keys.emplace_back(kw->arg);
  }
  return d;
}

// The instance a call of a class value makes (each alternative of a union).
ModuleDesc ModuleValues::instantiate(const ModuleDesc& callee, const ast::Call* call, const Ctx& ctx) {
  if (callee.kind == ModuleDesc::Union) {
    std::vector<ModuleDesc> alts;
    for (const ModuleDesc* a : callee.alternatives()) alts.push_back(instantiate(*a, call, ctx));
    return make_union(std::move(alts));
  }
  ModuleDesc d;
  // Calling None never makes a module (the code is under `if x is not None`).
  if (callee.kind == ModuleDesc::None) return bottom();
  if (callee.kind == ModuleDesc::LeafClass) {
    d.kind = ModuleDesc::Leaf;
    d.entry = callee.entry;
    d.ctor = call;
    return d;
  }
  if (callee.kind == ModuleDesc::UserClass) {
    const ClassInfo* c = callee.cls;
    d.ctor = call;
    d.cls = c;
    if (c->torch_base == analysis::TorchBase::Sequential) {
      // The items depend on the constructor's arguments here.
      const ast::FunctionDef* init = method(c, "__init__");
      Bindings bound;
      if (init != nullptr) bound = bind(init, true, call, ctx);
      ModuleDesc items = self_items(c, init ? &bound : nullptr, ctx.depth + 1);
      items.ctor = call;
      items.cls = c;
      return items;
    }
    d.kind = ModuleDesc::User;
    return d;
  }
  return unknown();
}

ModuleDesc ModuleValues::call_function(const ast::FunctionDef* fn, const ClassInfo* cls, const ast::Call* call,
                                       const Ctx& ctx, bool bound_self) {
  Bindings bound = bind(fn, bound_self, call, ctx);
  Ctx inner{fn, cls, &bound, ctx.depth + 1};
  return returns(fn, inner);
}

// The arguments of `fn`'s parameters at one call site, to be evaluated in the
// caller's context. Parameters the call leaves to their default get the default;
// parameters after a `*args` argument are not visible (no entry).
ModuleValues::Bindings ModuleValues::bind(const ast::FunctionDef* fn, bool skip_self, const ast::Call* call,
                                          const Ctx& site) {
  Bindings bound;
  const ast::Arguments* a = fn->args;
  std::vector<const ast::Arg*> params;
  for (ast::Arg* x : a->posonlyargs) params.push_back(x);
  for (ast::Arg* x : a->args) params.push_back(x);
  std::size_t first = skip_self ? 1 : 0;
  std::size_t first_default = params.size() - a->defaults.size();
  Ctx module_ctx{nullptr, nullptr, nullptr, site.depth + 1};
  bool opaque = false;
  std::size_t i = first;
  for (ast::ExprNode* arg : call->args) {
    if (ast::is<ast::Starred>(arg)) {
      opaque = true;
      break;
    }
    if (i < params.size()) bound[std::string(params[i]->arg)] = {arg, site};
    ++i;
  }
  for (ast::Keyword* kw : call->keywords) {
    if (kw->arg.data() == nullptr || kw->arg.empty()) continue;  // **kwargs: invisible, defaults hold
    bound[std::string(kw->arg)] = {kw->value, site};
  }
  for (std::size_t k = first; k < params.size(); ++k) {
    std::string name(params[k]->arg);
    if (bound.count(name)) continue;
    if (k >= first_default) bound[name] = {a->defaults[k - first_default], module_ctx};
    else if (!opaque) bound[name] = {nullptr, site};
  }
  for (std::size_t k = 0; k < a->kwonlyargs.size(); ++k) {
    std::string name(a->kwonlyargs[k]->arg);
    if (!bound.count(name) && a->kw_defaults[k] != nullptr) bound[name] = {a->kw_defaults[k], module_ctx};
  }
  return bound;
}

// A parameter of `fn` without a call-site binding: its default and the
// arguments of every call of `fn` in the module.
ModuleDesc ModuleValues::parameter(const ast::FunctionDef* fn, const ClassInfo* cls, std::size_t index,
                                   const Ctx& ctx) {
  const ast::Arguments* a = fn->args;
  std::string name(a->args[index]->arg);
  bool is_method = cls != nullptr;
  bool is_init = is_method && fn->name == "__init__";
  std::vector<ModuleDesc> alts;
  bool visible_site = false;
  for (const Site& s : sites_) {
    if (ctx.depth > kMaxDepth) break;
    Ctx site{s.fn, s.cls, nullptr, ctx.depth + 1};
    bool calls_fn = false;
    if (is_init) {
      if (is_super_init(s.call)) {
        // super().__init__ in a subclass of cls.
        calls_fn = s.cls != nullptr && base_model_class(s.cls) == cls;
      } else if (!ast::is<ast::Attribute>(s.call->func) || !is_self(static_cast<const ast::Attribute*>(s.call->func)->value)) {
        // A call of the class (directly or through a class-valued variable).
        auto* n = ast::as<ast::Name>(s.call->func);
        if (n != nullptr && model_class(n->id) == cls) {
          calls_fn = true;
        } else if (n != nullptr && !module_function(n->id) && !model_class(n->id)) {
          calls_fn = class_refs(s.call->func, s.fn, s.cls).count(cls) > 0;
        } else if (auto* fa = ast::as<ast::Attribute>(s.call->func); fa != nullptr) {
          // `cnf.block(cnf, norm_layer)`: a class held by a config object's field.
          ModuleDesc held = field_values(fa->attr, ctx);
          for (const ModuleDesc* alt : held.alternatives())
            calls_fn = calls_fn || (alt->kind == ModuleDesc::UserClass && alt->cls == cls);
        }
      }
    } else if (is_method) {
      auto* m = ast::as<ast::Attribute>(s.call->func);
      calls_fn = m != nullptr && is_self(m->value) && m->attr == fn->name && s.cls != nullptr &&
                 method(s.cls, m->attr) == fn;
    } else {
      auto* n = ast::as<ast::Name>(s.call->func);
      calls_fn = n != nullptr && n->id == fn->name && module_function(n->id) == fn;
    }
    if (!calls_fn) continue;
    Bindings bound = bind(fn, is_method, s.call, site);
    auto it = bound.find(name);
    if (it == bound.end()) continue;  // passed through *args from outside: invisible
    visible_site = true;
    alts.push_back(it->second.expr ? eval(it->second.expr, it->second.ctx) : unknown());
  }
  if (!visible_site) {
    std::size_t first_default = a->args.size() - a->defaults.size();
    if (index >= first_default) {
      Ctx module_ctx{nullptr, nullptr, nullptr, ctx.depth + 1};
      alts.push_back(eval(a->defaults[index - first_default], module_ctx));
    }
  }
  return make_union(std::move(alts));
}

// Which model classes an expression may name (`block`, `norm_layer`, `self.block`).
std::set<const ClassInfo*> ModuleValues::class_refs(const ast::ExprNode* e, const ast::FunctionDef* fn,
                                                    const ClassInfo* cls) {
  if (!class_refs_done_) compute_class_refs();
  std::set<const ClassInfo*> out;
  class_refs_into(e, fn, cls, out);
  return out;
}

void ModuleValues::class_refs_into(const ast::ExprNode* e, const ast::FunctionDef* fn, const ClassInfo* cls,
                                   std::set<const ClassInfo*>& out) const {
  if (e == nullptr) return;
  auto add = [&](const Key& k) {
    if (auto it = class_refs_map_.find(k); it != class_refs_map_.end()) out.insert(it->second.begin(), it->second.end());
  };
  if (auto* n = ast::as<ast::Name>(e)) {
    if (const ClassInfo* c = model_class(n->id)) out.insert(c);
    else if (fn != nullptr) add({fn, std::string(n->id)});
    if (!out.size()) add({module_, std::string(n->id)});
  } else if (auto* a = ast::as<ast::Attribute>(e); a && is_self(a->value) && cls != nullptr) {
    std::string k("self.");
    k.append(a->attr);
    for (const ClassInfo* c = cls; c != nullptr; c = base_model_class(c)) add({c, k});
  } else if (auto* i = ast::as<ast::IfExp>(e)) {
    class_refs_into(i->body, fn, cls, out);
    class_refs_into(i->orelse, fn, cls, out);
  } else if (auto* b = ast::as<ast::BoolOp>(e)) {
    for (ast::ExprNode* v : b->values) class_refs_into(v, fn, cls, out);
  } else if (auto* c = ast::as<ast::Call>(e); c && !c->args.empty() && resolve(c->func).value_or("") == "functools.partial") {
    class_refs_into(c->args[0], fn, cls, out);
  }
}

// A monotone fixpoint over the whole module: the model classes each local,
// parameter and `self.<attr>` may hold, through assignments, defaults and the
// arguments of calls. Used to find the call sites of a class's constructor
// (`block(...)`) without evaluating module values.
void ModuleValues::compute_class_refs() {
  class_refs_done_ = true;
  bool changed = true;
  auto add = [&](const Key& k, const ast::ExprNode* value, const ast::FunctionDef* fn, const ClassInfo* cls) {
    std::set<const ClassInfo*> v;
    class_refs_into(value, fn, cls, v);
    for (const ClassInfo* c : v) changed = class_refs_map_[k].insert(c).second || changed;
  };
  auto bind_args = [&](const ast::FunctionDef* callee, bool skip_self, const Site& s) {
    const ast::Arguments* a = callee->args;
    std::size_t i = skip_self ? 1 : 0;
    for (ast::ExprNode* arg : s.call->args) {
      if (ast::is<ast::Starred>(arg)) break;
      if (i < a->args.size()) add({callee, std::string(a->args[i]->arg)}, arg, s.fn, s.cls);
      ++i;
    }
    for (ast::Keyword* kw : s.call->keywords)
      if (kw->arg.data() != nullptr && !kw->arg.empty()) add({callee, std::string(kw->arg)}, kw->value, s.fn, s.cls);
  };
  while (changed) {
    changed = false;
    for (const auto& owned : owner_) {
      // Plain variables, not a structured binding: the lambdas below capture them.
      const ast::FunctionDef* f = owned.first;
      const ClassInfo* c = owned.second;
      const ast::Arguments* a = f->args;
      std::size_t first_default = a->args.size() - a->defaults.size();
      for (std::size_t k = first_default; k < a->args.size(); ++k)
        add({f, std::string(a->args[k]->arg)}, a->defaults[k - first_default], nullptr, nullptr);
      for_each_stmt(f->body, [&](const ast::StmtNode* st, bool) {
        auto assign = [&](const ast::ExprNode* target, const ast::ExprNode* value) {
          if (auto* n = ast::as<ast::Name>(target)) add({f, std::string(n->id)}, value, f, c);
          auto* at = ast::as<ast::Attribute>(target);
          if (at && is_self(at->value) && c != nullptr) {
            std::string k("self.");
            k.append(at->attr);
            add({c, k}, value, f, c);
          }
        };
        if (auto* as = ast::as<ast::Assign>(st))
          for (ast::ExprNode* t : as->targets) assign(t, as->value);
        else if (auto* an = ast::as<ast::AnnAssign>(st); an && an->value)
          assign(an->target, an->value);
      });
    }
    for (const ast::StmtNode* st : module_->body)
      if (auto* as = ast::as<ast::Assign>(st))
        for (ast::ExprNode* t : as->targets)
          if (auto* n = ast::as<ast::Name>(t)) add({module_, std::string(n->id)}, as->value, nullptr, nullptr);
    for (const Site& s : sites_) {
      const ast::ExprNode* callee = s.call->func;
      if (is_super_init(s.call)) {
        const ClassInfo* base = s.cls ? base_model_class(s.cls) : nullptr;
        if (const ast::FunctionDef* init = base ? method(base, "__init__") : nullptr) bind_args(init, true, s);
        continue;
      }
      if (auto* m = ast::as<ast::Attribute>(callee); m && is_self(m->value) && s.cls != nullptr) {
        if (const ast::FunctionDef* f = method(s.cls, m->attr)) bind_args(f, true, s);
        continue;
      }
      auto* n = ast::as<ast::Name>(callee);
      if (n == nullptr) continue;
      if (const ast::FunctionDef* f = module_function(n->id); f && !model_class(n->id)) {
        bind_args(f, false, s);
        continue;
      }
      std::set<const ClassInfo*> classes;
      class_refs_into(callee, s.fn, s.cls, classes);
      for (const ClassInfo* c : classes)
        if (const ast::FunctionDef* init = method(c, "__init__")) bind_args(init, true, s);
    }
  }
}

template <class Compute>
ModuleDesc ModuleValues::guarded(const Key& key, bool memoise, Compute compute) {
  if (auto it = memo_.find(key); memoise && it != memo_.end()) return it->second;
  if (auto it = visiting_.find(key); it != visiting_.end()) {
    cycle_low_ = std::min(cycle_low_, it->second);
    return bottom();
  }
  int depth = stack_++;
  visiting_[key] = depth;
  int saved_low = cycle_low_;
  cycle_low_ = 1 << 30;
  ModuleDesc result = compute();
  bool complete = cycle_low_ >= depth;
  if (memoise && complete) memo_[key] = result;
  cycle_low_ = std::min(saved_low, complete ? (1 << 30) : cycle_low_);
  visiting_.erase(key);
  --stack_;
  return result;
}

// A name in ctx.fn: a parameter, a local (all its assignments), or a
// module-level function/variable.
ModuleDesc ModuleValues::eval_name(std::string_view name, const Ctx& ctx) {
  if (ctx.fn == nullptr) {
    // Module level: a module-level assignment.
    std::vector<ModuleDesc> alts;
    for (const ast::StmtNode* s : module_->body)
      if (auto* as = ast::as<ast::Assign>(s))
        for (ast::ExprNode* t : as->targets)
          if (auto* n = ast::as<ast::Name>(t); n && n->id == name)
            alts.push_back(eval(as->value, {nullptr, nullptr, nullptr, ctx.depth + 1}));
    return make_union(std::move(alts));
  }
  // With call-site bindings the value belongs to that call: keyed by them.
  Key key{ctx.fn, std::string(name)};
  if (ctx.bound != nullptr) {
    key.second.push_back('@');
    key.second.append(std::to_string(reinterpret_cast<std::uintptr_t>(ctx.bound)));
  }
  return guarded(key, ctx.bound == nullptr, [&] { return eval_local(name, ctx); });
}

ModuleDesc ModuleValues::eval_local(std::string_view name, const Ctx& ctx) {
  bool found_list = false;
  ModuleDesc list = list_value(name, ctx, found_list);
  if (found_list) return list;

  std::vector<ModuleDesc> alts;
  bool assigned = false;
  for_each_stmt(ctx.fn->body, [&](const ast::StmtNode* s, bool) {
    const ast::ExprNode* value = nullptr;
    bool match = false;
    if (auto* a = ast::as<ast::Assign>(s)) {
      for (ast::ExprNode* t : a->targets)
        if (auto* n = ast::as<ast::Name>(t); n && n->id == name) match = true;
      value = a->value;
    } else if (auto* a = ast::as<ast::AnnAssign>(s)) {
      auto* n = ast::as<ast::Name>(a->target);
      match = n != nullptr && n->id == name && a->value != nullptr;
      value = a->value;
    }
    if (match) {
      assigned = true;
      alts.push_back(eval(value, ctx));
    }
  });
  // A parameter: bound by the call being evaluated, or all visible calls.
  const ast::Arguments* a = ctx.fn->args;
  for (std::size_t i = 0; i < a->args.size(); ++i) {
    if (a->args[i]->arg != name) continue;
    if (ctx.bound != nullptr) {
      auto it = ctx.bound->find(std::string(name));
      bool visible = it != ctx.bound->end() && it->second.expr != nullptr;
      alts.push_back(visible ? eval(it->second.expr, it->second.ctx) : unknown());
    } else {
      const ClassInfo* owner = owner_.count(ctx.fn) ? owner_.at(ctx.fn) : nullptr;
      alts.push_back(parameter(ctx.fn, owner, i, ctx));
    }
    assigned = true;
  }
  for (std::size_t i = 0; i < a->kwonlyargs.size(); ++i) {
    if (a->kwonlyargs[i]->arg != name) continue;
    auto it = ctx.bound ? ctx.bound->find(std::string(name)) : Bindings::const_iterator{};
    if (ctx.bound != nullptr && it != ctx.bound->end() && it->second.expr != nullptr)
      alts.push_back(eval(it->second.expr, it->second.ctx));
    else if (a->kw_defaults[i] != nullptr) alts.push_back(eval(a->kw_defaults[i], {nullptr, nullptr, nullptr, ctx.depth + 1}));
    else alts.push_back(unknown());
    assigned = true;
  }
  if (!assigned) {
    if (module_function(name) != nullptr) return unknown();  // a function as a value
    return eval_name(name, {nullptr, nullptr, nullptr, ctx.depth + 1});
  }
  // `x = None` followed by `if x is None: x = nn.BatchNorm2d`: both stay in the union;
  // calling it drops None.
  const bool container = alts.size() == 1 && (alts[0].kind == ModuleDesc::Seq || alts[0].kind == ModuleDesc::List);
  ModuleDesc d = make_union(std::move(alts));
  if (container) add_local_items(name, ctx, d);
  return d;
}

void ModuleValues::add_local_items(std::string_view name, const Ctx& ctx, ModuleDesc& d) {
  // The call `name.add_module(key, m)` / `name.append(m)` of a statement, or null.
  auto adding = [&](const ast::Node* n) -> const ast::Call* {
    auto* call = ast::as<ast::Call>(n);
    auto* m = call != nullptr ? ast::as<ast::Attribute>(call->func) : nullptr;
    auto* owner = m != nullptr ? ast::as<ast::Name>(m->value) : nullptr;
    if (owner == nullptr || owner->id != name) return nullptr;
    return m->attr == "add_module" || m->attr == "append" || m->attr == "extend" || m->attr == "insert" ? call
                                                                                                         : nullptr;
  };
  // Items added in a nested function (crnn.pytorch's `def convRelu(i)`) depend
  // on its calls' arguments, which this does not follow: the value is unknown.
  bool in_nested = false;
  std::function<void(const ast::Node*, bool)> scan = [&](const ast::Node* n, bool inside) {
    if (n == nullptr || in_nested) return;
    if (inside && adding(n) != nullptr) in_nested = true;
    bool nested = inside || ast::is<ast::FunctionDef>(n) || ast::is<ast::Lambda>(n);
    ast::for_each_child(const_cast<ast::Node*>(n), [&](ast::Node* c) { scan(c, nested); });
  };
  for (const ast::StmtNode* st : ctx.fn->body) scan(st, false);
  if (in_nested) {
    d = unknown();
    return;
  }
  for_each_stmt(ctx.fn->body, [&](const ast::StmtNode* s, bool nested) {
    auto* e = ast::as<ast::Expr>(s);
    const ast::Call* call = e != nullptr ? adding(e->value) : nullptr;
    if (call == nullptr || d.kind == ModuleDesc::Unknown) return;
    auto* m = static_cast<const ast::Attribute*>(call->func);
    if (m->attr == "add_module" && call->args.size() == 2) {
      d.items.push_back(eval(call->args[1], ctx));
      if (d.dict) d.keys.push_back(string_key(call->args[0]));
    } else if (m->attr == "append" && call->args.size() == 1) {
      d.items.push_back(eval(call->args[0], ctx));
    } else {
      d = unknown();  // extend / insert: not followed
      return;
    }
    d.dynamic = d.dynamic || nested;
  });
}

// A local list of modules: `layers = []` / `layers: List[nn.Module] = []` with
// `layers.append(m)`, `.extend(ms)`, `.insert(i, m)`, `layers += [...]`.
ModuleDesc ModuleValues::list_value(std::string_view name, const Ctx& ctx, bool& found) {
  ModuleDesc d;
  d.kind = ModuleDesc::List;
  bool is_list = false, unknown_part = false;
  for_each_stmt(ctx.fn->body, [&](const ast::StmtNode* s, bool nested) {
    // A list's first contents keep their order even under `if` (`if blocks is
    // None: blocks = [A, B]`); what is added to them there may or may not be.
    auto add_all = [&](const ast::ExprNode* v, bool first_contents = false) {
      ModuleDesc x = eval(v, ctx);
      if (x.kind != ModuleDesc::List && x.kind != ModuleDesc::Seq) {
        unknown_part = true;
        return;
      }
      bool ordered = first_contents && d.items.empty();
      for (auto& i : x.items) d.items.push_back(i);
      d.dynamic = d.dynamic || x.dynamic || (nested && !ordered);
    };
    // `layers = OrderedDict()` / `layers: OrderedDict[...] = OrderedDict()`, then
    // `layers["a"] = m`: a dict of modules in insertion order.
    auto is_dict = [&](const ast::ExprNode* v) {
      if (auto* d = ast::as<ast::Dict>(v)) return d->keys.empty();
      auto* c = ast::as<ast::Call>(v);
      if (c == nullptr || !c->args.empty()) return false;
      std::string p = resolve(c->func).value_or("");
      return p == "collections.OrderedDict" || p == "dict" || (ast::is<ast::Name>(c->func) && static_cast<const ast::Name*>(c->func)->id == "dict");
    };
    if (auto* a = ast::as<ast::Assign>(s)) {
      auto* n = a->targets.size() == 1 ? ast::as<ast::Name>(a->targets[0]) : nullptr;
      if (n && n->id == name && (ast::is<ast::List>(a->value) || ast::is<ast::ListComp>(a->value))) {
        is_list = true;
        add_all(a->value, true);
      } else if (n && n->id == name && is_dict(a->value)) {
        is_list = d.dict = true;
      }
      auto* sub = a->targets.size() == 1 ? ast::as<ast::Subscript>(a->targets[0]) : nullptr;
      auto* dn = sub ? ast::as<ast::Name>(sub->value) : nullptr;
      if (dn && dn->id == name && is_list) {
        ModuleDesc item = eval(a->value, ctx);
        if (is_bottom(item)) return;
        d.items.push_back(item);
        if (d.dict) d.keys.push_back(string_key(sub->slice));
        d.dynamic = d.dynamic || nested;
      }
    } else if (auto* a = ast::as<ast::AnnAssign>(s)) {
      auto* n = ast::as<ast::Name>(a->target);
      if (n && n->id == name && a->value && (ast::is<ast::List>(a->value) || ast::is<ast::ListComp>(a->value))) {
        is_list = true;
        add_all(a->value, true);
      } else if (n && n->id == name && a->value && is_dict(a->value)) {
        is_list = d.dict = true;
      }
    } else if (auto* a = ast::as<ast::AugAssign>(s)) {
      auto* n = ast::as<ast::Name>(a->target);
      if (n && n->id == name) {
        is_list = true;
        add_all(a->value);
      }
    } else if (auto* e = ast::as<ast::Expr>(s)) {
      auto* c = ast::as<ast::Call>(e->value);
      auto* m = c ? ast::as<ast::Attribute>(c->func) : nullptr;
      auto* recv = m ? ast::as<ast::Name>(m->value) : nullptr;
      if (recv && recv->id == name && !c->args.empty()) {
        if (m->attr == "append") {
          ModuleDesc item = eval(c->args[0], ctx);
          if (is_bottom(item)) return;  // a call of None: this append never runs
          d.items.push_back(item);
          d.dynamic = d.dynamic || nested;
        } else if (m->attr == "extend") {
          add_all(c->args[0]);
        } else if (m->attr == "insert" && c->args.size() == 2) {
          d.items.insert(d.items.begin(), eval(c->args[1], ctx));
          d.dynamic = true;
        }
      }
    }
  });
  found = is_list;
  if (unknown_part) return unknown();
  if (d.dict) d.keys.resize(d.items.size());  // items added otherwise: keys not known
  return d;
}

ModuleDesc ModuleValues::returns(const ast::FunctionDef* fn, const Ctx& ctx) {
  std::vector<ModuleDesc> alts;
  for_each_stmt(fn->body, [&](const ast::StmtNode* s, bool) {
    if (auto* r = ast::as<ast::Return>(s)) alts.push_back(eval(r->value, ctx));
  });
  return make_union(std::move(alts));
}

ModuleDesc ModuleValues::self_items(const ClassInfo* cls) { return self_items(cls, nullptr, 0); }

ModuleDesc ModuleValues::self_items(const ClassInfo* cls, const Bindings* bound, int depth) {
  ModuleDesc d;
  d.kind = cls->torch_base == analysis::TorchBase::Sequential ? ModuleDesc::Seq : ModuleDesc::List;
  d.cls = cls;
  const ast::FunctionDef* init = method(cls, "__init__");
  if (init == nullptr || depth > kMaxDepth) return d;
  Ctx ctx{init, cls, bound, depth + 1};
  for_each_stmt(init->body, [&](const ast::StmtNode* s, bool nested) {
    // `self.norm = nn.BatchNorm2d(c)` in a Sequential subclass registers a child,
    // in order, as add_module does.
    if (auto* a = ast::as<ast::Assign>(s); a && d.kind == ModuleDesc::Seq && a->targets.size() == 1) {
      auto* t = ast::as<ast::Attribute>(a->targets[0]);
      if (t && is_self(t->value)) {
        ModuleDesc item = eval(a->value, ctx);
        if (item.kind == ModuleDesc::Leaf || item.kind == ModuleDesc::User || item.kind == ModuleDesc::Seq) {
          d.items.push_back(item);
          d.dynamic = d.dynamic || nested;
        }
      }
      return;
    }
    auto* e = ast::as<ast::Expr>(s);
    auto* c = e ? ast::as<ast::Call>(e->value) : nullptr;
    if (c == nullptr) return;
    if (is_super_init(c)) {
      const ClassInfo* base = base_model_class(cls);
      if (base != nullptr && method(base, "__init__") != nullptr && method(base, "__init__") != init) {
        // The parent is a Sequential class of the input: its items, for these arguments.
        Bindings b = bind(method(base, "__init__"), true, c, ctx);
        ModuleDesc parent = self_items(base, &b, depth + 1);
        for (auto& i : parent.items) d.items.push_back(i);
        d.dynamic = d.dynamic || parent.dynamic;
        return;
      }
      for (ast::ExprNode* arg : c->args) {
        bool starred = ast::is<ast::Starred>(arg);
        const ast::ExprNode* v = starred ? static_cast<const ast::Starred*>(arg)->value : arg;
        ModuleDesc item = eval(v, ctx);
        bool ordered_dict = ast::is<ast::Call>(v) &&
                            resolve(static_cast<const ast::Call*>(v)->func).value_or("") == "collections.OrderedDict";
        // A dict of modules (`super().__init__(layers)`, layers an OrderedDict).
        if (starred || ordered_dict || item.kind == ModuleDesc::List) {
          if (item.kind != ModuleDesc::List && item.kind != ModuleDesc::Seq) {
            d.items.push_back(unknown());
            continue;
          }
          for (auto& i : item.items) d.items.push_back(i);
          d.dynamic = d.dynamic || item.dynamic;
        } else {
          d.items.push_back(item);
        }
      }
      return;
    }
    // self.add_module("name", m) / self.append(m)
    auto* m = ast::as<ast::Attribute>(c->func);
    if (m == nullptr || !is_self(m->value)) return;
    if (m->attr == "add_module" && c->args.size() == 2) {
      d.items.push_back(eval(c->args[1], ctx));
      d.dynamic = d.dynamic || nested;
    } else if (m->attr == "append" && c->args.size() == 1) {
      d.items.push_back(eval(c->args[0], ctx));
      d.dynamic = d.dynamic || nested;
    }
  });
  return d;
}

std::set<const ClassInfo*> ModuleValues::submodule_classes(const ClassInfo* cls) {
  std::set<const ClassInfo*> out;
  std::function<void(const ModuleDesc&)> collect = [&](const ModuleDesc& d) {
    if ((d.kind == ModuleDesc::User || d.kind == ModuleDesc::UserClass || d.kind == ModuleDesc::Seq) && d.cls)
      out.insert(d.cls);
    for (const ModuleDesc& i : d.items) collect(i);
  };
  std::set<std::string> names;
  for_each_attr_setting(cls, [&](std::string_view name, const ast::ExprNode*, const ast::FunctionDef*) {
    names.emplace(name);
  });
  for (const std::string& n : names)
    if (auto d = attr(cls, n)) collect(*d);
  if (cls->torch_base != analysis::TorchBase::Module) collect(self_items(cls));
  return out;
}

std::optional<ModuleDesc> ModuleValues::attr(const ClassInfo* cls, std::string_view name) {
  // Calls `visit(value, fn)` for each value `self.<name>` is set to in class c.
  auto for_each_setting = [&](const ClassInfo* c, const auto& visit) {
    for_each_attr_setting(c, [&](std::string_view set, const ast::ExprNode* value, const ast::FunctionDef* f) {
      if (set == name) visit(value, f);
    });
  };
  for (const ClassInfo* c = cls; c != nullptr; c = base_model_class(c)) {
    bool assigned = false;
    for_each_setting(c, [&](const ast::ExprNode*, const ast::FunctionDef*) { assigned = true; });
    if (!assigned && name != "*") {
      if (auto any = attr(c, "*")) return any;  // setattr(self, name, m)
    }
    if (!assigned) continue;
    std::string attr_key("self.");
    attr_key.append(name);
    return guarded({c, attr_key}, true, [&] {
      std::vector<ModuleDesc> alts;
      for_each_setting(c, [&](const ast::ExprNode* value, const ast::FunctionDef* f) {
        alts.push_back(eval(value, {f, c, nullptr, 0}));
      });
      ModuleDesc d = make_union(std::move(alts));
      // self.features.add_module("denseblock1", block) / .append(m) after the
      // Sequential was made: its later items; self.heads["a"] = m, self.heads.a = m,
      // .update({...}) on a ModuleDict.
      if (d.kind == ModuleDesc::Seq || d.kind == ModuleDesc::List) {
        auto add = [&d](ModuleDesc item, std::string key, bool nested) {
          d.items.push_back(std::move(item));
          if (d.dict) d.keys.push_back(std::move(key));
          d.dynamic = d.dynamic || nested;
        };
        for (ast::StmtNode* st : c->node->body) {
          auto* f = ast::as<ast::FunctionDef>(st);
          if (f == nullptr) continue;
          for_each_stmt(f->body, [&](const ast::StmtNode* x, bool nested) {
            // self.heads[name] = m on a ModuleDict or list attribute (on a Sequential,
            // item assignment replaces an item: version patching, not structure);
            // self.heads.name = m registers a module of a ModuleDict too.
            if (auto* a = ast::as<ast::Assign>(x); a && a->targets.size() == 1) {
              auto* sub = ast::as<ast::Subscript>(a->targets[0]);
              auto* set = ast::as<ast::Attribute>(a->targets[0]);
              auto* owner = ast::as<ast::Attribute>(sub ? sub->value : set ? set->value : nullptr);
              if (owner && is_self(owner->value) && owner->attr == name && d.kind == ModuleDesc::List &&
                  (sub != nullptr || d.dict)) {
                ModuleDesc item = eval(a->value, {f, c, nullptr, 0});
                if (is_bottom(item)) return;
                add(std::move(item), sub ? string_key(sub->slice) : std::string(set->attr), nested);
              }
              return;
            }
            auto* e = ast::as<ast::Expr>(x);
            auto* call = e ? ast::as<ast::Call>(e->value) : nullptr;
            auto* m = call ? ast::as<ast::Attribute>(call->func) : nullptr;
            auto* owner = m ? ast::as<ast::Attribute>(m->value) : nullptr;
            if (owner == nullptr || !is_self(owner->value) || owner->attr != name) return;
            if (m->attr == "add_module" && call->args.size() == 2) {
              add(eval(call->args[1], {f, c, nullptr, 0}), string_key(call->args[0]), nested);
            } else if (m->attr == "append" && call->args.size() == 1) {
              add(eval(call->args[0], {f, c, nullptr, 0}), "", nested);
            } else if (m->attr == "update" && call->args.size() == 1 && d.dict) {
              ModuleDesc more = keyed_modules(call->args[0], {f, c, nullptr, 0});
              if (more.kind != ModuleDesc::List) return add(unknown(), "", nested);  // any key, any module
              for (std::size_t i = 0; i < more.items.size(); ++i) add(more.items[i], more.keys[i], nested);
            }
          });
        }
      }
      return d;
    });
  }
  return std::nullopt;
}

}  // namespace t2k::lowering
