// ast.dump, generated from ast_nodes.def. The rules are those of CPython's
// Lib/ast.py `dump`: fields in declaration order as `name=value`, optional fields
// that are None omitted, lists always printed, constants printed with repr().
#include "torch2keras/syntax/ast_dump.h"

#include "torch2keras/base/pyrepr.h"

namespace t2k::syntax {

namespace {

using namespace ast;

class Dumper {
 public:
  Dumper(std::string& out, const DumpOptions& options) : out_(out), options_(options) {}

  void node(const Node* n) {
    if (n == nullptr) {
      out_ += "None";
      return;
    }
    out_ += name(n->kind);
    out_ += '(';
    first_ = true;
    switch (n->kind) {
#define T2K_NODE(category, node_name, has_attributes, fields) \
  case NodeKind::node_name: {                                 \
    [[maybe_unused]] auto* x = static_cast<const node_name*>(n); \
    fields                                                    \
    break;                                                    \
  }
#define T2K_FIELD(arity, asdl_type, field_name) field(#field_name, Arity::arity, x->field_name);
#define T2K_FIELD_SINCE(arity, asdl_type, field_name, since_minor) \
  if (options_.minor >= since_minor) field(#field_name, Arity::arity, x->field_name);
#include "torch2keras/syntax/ast_nodes.def"
    }
    if (options_.include_attributes && has_attributes(n->kind)) {
      attribute("lineno", n->loc.lineno);
      attribute("col_offset", n->loc.col_offset);
      attribute("end_lineno", n->loc.end_lineno);
      attribute("end_col_offset", n->loc.end_col_offset);
    }
    out_ += ')';
  }

 private:
  void key(const char* field_name) {
    if (!first_) out_ += ", ";
    first_ = false;
    out_ += field_name;
    out_ += '=';
  }
  void attribute(const char* attr_name, int32_t value) {
    key(attr_name);
    out_ += std::to_string(value);
  }

  // Node-valued fields.
  template <class T>
  void field(const char* field_name, Arity arity, T* child) {
    if (arity == Arity::OPT && child == nullptr) return;
    key(field_name);
    bool saved = first_;
    node(child);
    first_ = saved;
  }
  template <class T>
  void field(const char* field_name, Arity, const Seq<T>& items) {
    key(field_name);
    bool saved = first_;
    out_ += '[';
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (i != 0) out_ += ", ";
      value(items[i]);
    }
    out_ += ']';
    first_ = saved;
  }
  void field(const char* field_name, Arity arity, Identifier id) {
    if (arity == Arity::OPT && id.data() == nullptr) return;
    key(field_name);
    value(id);
  }
  template <class T>
  void field(const char* field_name, Arity, const T& v) {
    key(field_name);
    value(v);
  }

  // List items and scalar values.
  template <class T>
  void value(T* child) {
    bool saved = first_;
    node(child);
    first_ = saved;
  }
  void value(Identifier id) { pyrepr::repr_str(out_, id); }
  void value(int32_t v) { out_ += std::to_string(v); }
  void value(ExprContext v) { enum_value(name(v)); }
  void value(BoolOpKind v) { enum_value(name(v)); }
  void value(OperatorKind v) { enum_value(name(v)); }
  void value(UnaryOpKind v) { enum_value(name(v)); }
  void value(CmpOpKind v) { enum_value(name(v)); }
  void value(const ConstantValue& c) {
    switch (c.kind) {
      case ConstantValue::Kind::None: out_ += "None"; break;
      case ConstantValue::Kind::True: out_ += "True"; break;
      case ConstantValue::Kind::False: out_ += "False"; break;
      case ConstantValue::Kind::Ellipsis: out_ += "Ellipsis"; break;
      case ConstantValue::Kind::Int: out_ += c.text; break;
      case ConstantValue::Kind::Float: pyrepr::repr_float(out_, c.number); break;
      case ConstantValue::Kind::Complex: pyrepr::repr_imaginary(out_, c.number); break;
      case ConstantValue::Kind::Str: pyrepr::repr_str(out_, c.text); break;
      case ConstantValue::Kind::Bytes: pyrepr::repr_bytes(out_, c.text); break;
    }
  }
  void enum_value(const char* enum_name) {
    out_ += enum_name;
    out_ += "()";
  }

  std::string& out_;
  const DumpOptions& options_;
  bool first_ = true;
};

}  // namespace

void dump_ast(std::string& out, const ast::Node* node, const DumpOptions& options) {
  Dumper(out, options).node(node);
}

}  // namespace t2k::syntax
