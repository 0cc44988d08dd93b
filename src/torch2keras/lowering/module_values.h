// Module values: what each module-valued expression of the model code can hold.
//
// A model's structure is built by constructor code: `self.layer1 =
// self._make_layer(block, 64, 2)`, `norm_layer = nn.BatchNorm2d`,
// `layers.append(block(...))`, `nn.Sequential(*layers)`. The lowering needs to
// know, for each `self.<attr>(x)` in `forward`, which layers that call may run,
// to decide tensor layouts. This is a small abstract interpretation of the
// constructor code over these values:
//
//   instances   a catalog layer (nn.Conv2d(...)), a model class of the input,
//               a Sequential of items, a list of items, None;
//   classes     nn.BatchNorm2d, a model class, functools.partial(X, ...) of one;
//   unions      every value a name can hold: all its assignments, and for a
//               parameter its default and the arguments of every call site of
//               its function in the input (through class-valued variables,
//               `super().__init__(...)`, `self.method(...)`, module functions).
//
// Arguments passed through `**kwargs` from outside the input are not visible:
// a parameter reached only that way holds its default. A value the analysis
// cannot see is Unknown, and lowering reports it, so nothing is guessed.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "torch2keras/analysis/classes.h"
#include "torch2keras/analysis/imports.h"
#include "torch2keras/catalog/catalog.h"
#include "torch2keras/syntax/ast.h"

namespace t2k::lowering {

struct ModuleDesc {
  enum Kind : uint8_t {
    Unknown,    // not visible to the analysis
    None,       // Python None (an optional submodule)
    Leaf,       // an instance of a catalog layer
    User,       // an instance of a model class of the input (not a Sequential)
    Seq,        // a Sequential: items in call order
    List,       // a ModuleList / ModuleDict / Python list of modules: the element kinds
    Union,      // one of `items` (never nested, never Unknown)
    LeafClass,  // a catalog layer class (nn.BatchNorm2d), not yet called
    UserClass,  // a model class of the input, not yet called
  };
  Kind kind = Unknown;
  const catalog::Entry* entry = nullptr;    // Leaf, LeafClass
  const analysis::ClassInfo* cls = nullptr;  // User, UserClass, and Seq of a Sequential subclass
  const ast::Call* ctor = nullptr;           // Leaf/User/Seq: the constructing call
  std::vector<ModuleDesc> items;
  // Seq/List: built by appends in loops or branches, so the items' order and
  // count are not the textual ones.
  bool dynamic = false;
  // List: a ModuleDict (or a dict of modules), whose items are read by key
  // (`self.blocks.wte`, `self.blocks["wte"]`) and iterate as keys. keys[i] is the
  // key of items[i], "" where it is not a constant (ModuleDict refuses "").
  bool dict = false;
  std::vector<std::string> keys;

  // The non-union alternatives (this one when it is not a union), None left out.
  std::vector<const ModuleDesc*> alternatives() const;
  bool same_structure(const ModuleDesc& other) const;
};

// Evaluates module values over one module's classes and functions. Results of
// context-free evaluations are memoised; evaluation depth is bounded.
class ModuleValues {
 public:
  ModuleValues(const ast::Module* module, const analysis::ImportScope& scope,
               const std::vector<analysis::ClassInfo>& classes, const catalog::Catalog& catalog);

  // What `self.<attr>` holds in class `cls` (assignments in any method, inherited
  // ones included, `add_module`); null when the class never sets it.
  std::optional<ModuleDesc> attr(const analysis::ClassInfo* cls, std::string_view attr);
  // The items of a Sequential subclass (the arguments of its super().__init__),
  // or of a ModuleDict/ModuleList subclass (its add_module / append calls).
  ModuleDesc self_items(const analysis::ClassInfo* cls);

  // The model classes whose instances `cls` holds (in its attributes, its
  // Sequential/ModuleList items, nested containers), directly.
  std::set<const analysis::ClassInfo*> submodule_classes(const analysis::ClassInfo* cls);

  const analysis::ClassInfo* model_class(std::string_view name) const;
  const ast::FunctionDef* method(const analysis::ClassInfo* cls, std::string_view name) const;
  const ast::FunctionDef* module_function(std::string_view name) const;

 private:
  struct Bound;
  using Bindings = std::map<std::string, Bound>;
  struct Ctx {
    const ast::FunctionDef* fn = nullptr;
    const analysis::ClassInfo* cls = nullptr;
    const Bindings* bound = nullptr;  // parameters bound by the call being evaluated
    int depth = 0;
  };
  // A parameter's argument at one call site, evaluated when needed in the
  // caller's context (null expr: not visible).
  struct Bound {
    const ast::ExprNode* expr = nullptr;
    Ctx ctx;
  };
  ModuleDesc eval(const ast::ExprNode* e, const Ctx& ctx);
  ModuleDesc eval_name(std::string_view name, const Ctx& ctx);
  ModuleDesc eval_local(std::string_view name, const Ctx& ctx);
  ModuleDesc eval_call(const ast::Call* call, const Ctx& ctx);
  ModuleDesc field_values(std::string_view name, const Ctx& ctx);
  ModuleDesc instantiate(const ModuleDesc& callee, const ast::Call* call, const Ctx& ctx);
  ModuleDesc call_function(const ast::FunctionDef* fn, const analysis::ClassInfo* cls,
                           const ast::Call* call, const Ctx& ctx, bool bound_self);
  ModuleDesc parameter(const ast::FunctionDef* fn, const analysis::ClassInfo* cls, std::size_t index,
                       const Ctx& ctx);
  ModuleDesc list_value(std::string_view name, const Ctx& ctx, bool& found);
  // The items a function adds to its local Sequential / ModuleList `name`
  // (`seq.add_module("conv", m)`, `seq.append(m)`) appended to `d`; `d` becomes
  // Unknown where they cannot be followed (added in a nested function).
  void add_local_items(std::string_view name, const Ctx& ctx, ModuleDesc& d);
  ModuleDesc keyed_modules(const ast::ExprNode* arg, const Ctx& ctx);
  ModuleDesc keyed_call(const ast::Call* call, const Ctx& ctx);
  ModuleDesc returns(const ast::FunctionDef* fn, const Ctx& ctx);
  ModuleDesc self_items(const analysis::ClassInfo* cls, const Bindings* bound, int depth);
  Bindings bind(const ast::FunctionDef* fn, bool skip_self, const ast::Call* call,
                                         const Ctx& site);
  const analysis::ClassInfo* base_model_class(const analysis::ClassInfo* cls) const;

  std::optional<std::string> resolve(const ast::ExprNode* e) const;
  std::set<const analysis::ClassInfo*> class_refs(const ast::ExprNode* e, const ast::FunctionDef* fn,
                                                  const analysis::ClassInfo* cls);

  // Every call in the module, with the function and class it is in.
  struct Site {
    const ast::Call* call;
    const ast::FunctionDef* fn;
    const analysis::ClassInfo* cls;
  };
  std::vector<Site> sites_;
  std::map<const ast::FunctionDef*, const analysis::ClassInfo*> owner_;
  std::map<const ast::FunctionDef*, const ast::ClassDef*> enclosing_class_;  // methods of any class

  const ast::Module* module_;
  const analysis::ImportScope& scope_;
  const std::vector<analysis::ClassInfo>& classes_;
  const catalog::Catalog& catalog_;
  // Recursive evaluation of a name or attribute: a value that depends on itself
  // contributes nothing more (the least fixpoint of the union); a result is
  // memoised only when it did not depend on a value still being evaluated.
  using Key = std::pair<const void*, std::string>;
  template <class Compute>
  ModuleDesc guarded(const Key& key, bool memoise, Compute compute);
  void compute_class_refs();
  void class_refs_into(const ast::ExprNode* e, const ast::FunctionDef* fn, const analysis::ClassInfo* cls,
                       std::set<const analysis::ClassInfo*>& out) const;
  std::map<Key, std::set<const analysis::ClassInfo*>> class_refs_map_;
  bool class_refs_done_ = false;
  std::map<Key, ModuleDesc> memo_;
  std::map<Key, int> visiting_;  // key -> its depth on the evaluation stack
  int stack_ = 0;
  int cycle_low_ = 1 << 30;      // the lowest stack depth a cycle reached back to
};

// Whether `e` is the name `self`.
bool is_self(const ast::ExprNode* e);

// `super().__init__(...)` or `super(C, self).__init__(...)`.
bool is_super_init(const ast::Call* call);

// The union of `a` and `b` (flattened; Unknown absorbs everything).
ModuleDesc join(ModuleDesc a, const ModuleDesc& b);

// Whether every alternative of `d` is a ModuleDict (a dict of modules).
bool module_dict(const ModuleDesc& d);

// What ModuleDict value `d` holds under `key`: in each alternative, the items
// assigned under that key and those whose key is not a constant. nullopt when no
// item can have that key; Unknown when `d` is not a ModuleDict.
std::optional<ModuleDesc> dict_item(const ModuleDesc& d, std::string_view key);

}  // namespace t2k::lowering
