// Compile-time evaluation of literal Python expressions (see const_eval.h).
#include "torch2keras/analysis/const_eval.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>

#include "torch2keras/base/pyrepr.h"

namespace t2k::analysis {
namespace {

using Kind = ConstValue::Kind;

ConstValue from_constant(const ast::ConstantValue& c) {
  using CK = ast::ConstantValue::Kind;
  switch (c.kind) {
    case CK::None: return ConstValue::none();
    case CK::True: return ConstValue::boolean(true);
    case CK::False: return ConstValue::boolean(false);
    case CK::Int: {
      // Decimal digits; values beyond int64 are left unknown.
      if (c.text.size() > 18) return ConstValue::unknown();
      return ConstValue::int_value(std::strtoll(std::string(c.text).c_str(), nullptr, 10));
    }
    case CK::Float: return ConstValue::float_value(c.number);
    case CK::Str: return ConstValue::str(std::string(c.text));
    default: return ConstValue::unknown();
  }
}

ConstValue arithmetic(ast::OperatorKind op, const ConstValue& a, const ConstValue& b) {
  using Op = ast::OperatorKind;
  if (!a.is_number() || !b.is_number()) {
    if (op == Op::Add && a.kind == Kind::Str && b.kind == Kind::Str) return ConstValue::str(a.text + b.text);
    if (op == Op::Add && a.kind == Kind::Tuple && b.kind == Kind::Tuple && a.known() && b.known()) {
      ConstValue t{Kind::Tuple};
      t.items = a.items;
      t.items.insert(t.items.end(), b.items.begin(), b.items.end());
      return t;
    }
    return ConstValue::unknown();
  }
  bool floats = a.kind == Kind::Float || b.kind == Kind::Float;
  if (!floats) {
    int64_t x = a.integer, y = b.integer;
    switch (op) {
      case Op::Add: return ConstValue::int_value(x + y);
      case Op::Sub: return ConstValue::int_value(x - y);
      case Op::Mult: return ConstValue::int_value(x * y);
      case Op::FloorDiv:
      case Op::Mod: {
        if (y == 0) return ConstValue::unknown();
        int64_t q = x / y, r = x % y;
        if (r != 0 && ((r < 0) != (y < 0))) { q -= 1; r += y; }  // Python floors
        return ConstValue::int_value(op == Op::FloorDiv ? q : r);
      }
      case Op::Div:
        if (y == 0) return ConstValue::unknown();
        return ConstValue::float_value(static_cast<double>(x) / static_cast<double>(y));
      default: return ConstValue::unknown();
    }
  }
  double x = a.as_double(), y = b.as_double();
  switch (op) {
    case Op::Add: return ConstValue::float_value(x + y);
    case Op::Sub: return ConstValue::float_value(x - y);
    case Op::Mult: return ConstValue::float_value(x * y);
    case Op::Div: return y == 0 ? ConstValue::unknown() : ConstValue::float_value(x / y);
    case Op::Pow: return ConstValue::float_value(std::pow(x, y));
    default: return ConstValue::unknown();
  }
}

std::optional<int> compare_numbers(const ConstValue& a, const ConstValue& b) {
  if (!a.is_number() || !b.is_number()) return std::nullopt;
  double x = a.as_double(), y = b.as_double();
  return x < y ? -1 : (x > y ? 1 : 0);
}

ConstValue compare(ast::CmpOpKind op, const ConstValue& a, const ConstValue& b) {
  using Op = ast::CmpOpKind;
  switch (op) {
    case Op::Eq:
    case Op::NotEq: {
      auto eq = equal(a, b);
      if (!eq) return ConstValue::unknown();
      return ConstValue::boolean(op == Op::Eq ? *eq : !*eq);
    }
    case Op::Is:
    case Op::IsNot: {
      // Only `is None` / `is not None` (and True/False singletons) are decidable.
      if (a.kind == Kind::Unknown || b.kind == Kind::Unknown) return ConstValue::unknown();
      bool singleton = b.kind == Kind::None || b.kind == Kind::Bool;
      if (!singleton) return ConstValue::unknown();
      bool same = a.kind == b.kind && a.integer == b.integer;
      return ConstValue::boolean(op == Op::Is ? same : !same);
    }
    case Op::Lt: case Op::LtE: case Op::Gt: case Op::GtE: {
      auto c = compare_numbers(a, b);
      if (!c) return ConstValue::unknown();
      bool r = op == Op::Lt ? *c < 0 : op == Op::LtE ? *c <= 0 : op == Op::Gt ? *c > 0 : *c >= 0;
      return ConstValue::boolean(r);
    }
    default: return ConstValue::unknown();
  }
}

}  // namespace

bool ConstValue::known() const {
  if (kind == Kind::Unknown) return false;
  for (const ConstValue& item : items)
    if (!item.known()) return false;
  return true;
}

std::optional<bool> ConstValue::truth() const {
  switch (kind) {
    case Kind::Unknown: return std::nullopt;
    case Kind::None: return false;
    case Kind::Bool:
    case Kind::Int: return integer != 0;
    case Kind::Float: return number != 0;
    case Kind::Str: return !text.empty();
    case Kind::Tuple: return !items.empty();
  }
  return std::nullopt;
}

std::optional<bool> equal(const ConstValue& a, const ConstValue& b) {
  if (a.kind == Kind::Unknown || b.kind == Kind::Unknown) return std::nullopt;
  if (a.is_number() && b.is_number()) return a.as_double() == b.as_double();
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Kind::None: return true;
    case Kind::Str: return a.text == b.text;
    case Kind::Tuple: {
      if (a.items.size() != b.items.size()) return false;
      bool all = true;
      for (std::size_t i = 0; i < a.items.size(); ++i) {
        auto e = equal(a.items[i], b.items[i]);
        if (!e) return std::nullopt;
        all = all && *e;
      }
      return all;
    }
    default: return false;
  }
}

ConstValue const_eval(const ast::ExprNode* expr, const ConstEnv& env) {
  if (expr == nullptr) return ConstValue::unknown();
  switch (expr->kind) {
    case ast::NodeKind::Constant:
      return from_constant(static_cast<const ast::Constant*>(expr)->value);
    case ast::NodeKind::Name: {
      auto* n = static_cast<const ast::Name*>(expr);
      if (env.lookup) return env.lookup(n->id);
      return ConstValue::unknown();
    }
    case ast::NodeKind::Tuple:
    case ast::NodeKind::List: {
      ConstValue t{Kind::Tuple};
      auto elts = expr->kind == ast::NodeKind::Tuple ? static_cast<const ast::Tuple*>(expr)->elts
                                                     : static_cast<const ast::List*>(expr)->elts;
      for (ast::ExprNode* e : elts) {
        if (ast::is<ast::Starred>(e)) return ConstValue::unknown();
        t.items.push_back(const_eval(e, env));
      }
      return t;
    }
    case ast::NodeKind::UnaryOp: {
      auto* u = static_cast<const ast::UnaryOp*>(expr);
      ConstValue v = const_eval(u->operand, env);
      switch (u->op) {
        case ast::UnaryOpKind::Not: {
          auto t = v.truth();
          return t ? ConstValue::boolean(!*t) : ConstValue::unknown();
        }
        case ast::UnaryOpKind::USub:
          if (v.kind == Kind::Float) return ConstValue::float_value(-v.number);
          if (v.kind == Kind::Int || v.kind == Kind::Bool) return ConstValue::int_value(-v.integer);
          return ConstValue::unknown();
        case ast::UnaryOpKind::UAdd:
          return v.is_number() ? v : ConstValue::unknown();
        default: return ConstValue::unknown();
      }
    }
    case ast::NodeKind::BinOp: {
      auto* b = static_cast<const ast::BinOp*>(expr);
      return arithmetic(b->op, const_eval(b->left, env), const_eval(b->right, env));
    }
    case ast::NodeKind::BoolOp: {
      auto* b = static_cast<const ast::BoolOp*>(expr);
      bool is_and = b->op == ast::BoolOpKind::And;
      ConstValue last;
      for (ast::ExprNode* e : b->values) {
        last = const_eval(e, env);
        auto t = last.truth();
        if (!t) {
          // `False and X` is decided by a later False only if every earlier value
          // was known; an unknown operand makes the whole value unknown unless a
          // later operand short-circuits... which Python would not reach. Unknown.
          return ConstValue::unknown();
        }
        if (is_and ? !*t : *t) return last;
      }
      return last;
    }
    case ast::NodeKind::Compare: {
      auto* c = static_cast<const ast::Compare*>(expr);
      ConstValue left = const_eval(c->left, env);
      ConstValue result = ConstValue::boolean(true);
      for (std::size_t i = 0; i < c->ops.size(); ++i) {
        ConstValue right = const_eval(c->comparators[i], env);
        ConstValue r = compare(c->ops[i], left, right);
        auto t = r.truth();
        if (!t) return ConstValue::unknown();
        if (!*t) return ConstValue::boolean(false);
        left = std::move(right);
      }
      return result;
    }
    case ast::NodeKind::IfExp: {
      auto* i = static_cast<const ast::IfExp*>(expr);
      auto t = const_eval(i->test, env).truth();
      if (!t) return ConstValue::unknown();
      return const_eval(*t ? i->body : i->orelse, env);
    }
    case ast::NodeKind::Subscript: {
      auto* s = static_cast<const ast::Subscript*>(expr);
      ConstValue v = const_eval(s->value, env);
      if (auto* sl = ast::as<ast::Slice>(s->slice)) {
        // seq[lower:upper:step] with int (or omitted) bounds, as Python slices it.
        if (v.kind != Kind::Tuple) return ConstValue::unknown();
        auto bound = [&](const ast::ExprNode* e) -> std::optional<std::optional<int64_t>> {
          if (e == nullptr) return std::optional<int64_t>{};
          ConstValue b = const_eval(e, env);
          if (b.kind == Kind::None) return std::optional<int64_t>{};
          if (b.kind != Kind::Int) return std::nullopt;
          return std::optional<int64_t>{b.integer};
        };
        auto lower = bound(sl->lower), upper = bound(sl->upper), step = bound(sl->step);
        if (!lower || !upper || !step || step->value_or(1) == 0) return ConstValue::unknown();
        int64_t n = static_cast<int64_t>(v.items.size()), k = step->value_or(1);
        auto clamp = [&](std::optional<int64_t> b, int64_t if_none) {
          if (!b) return if_none;
          int64_t i = *b < 0 ? *b + n : *b;
          return k > 0 ? std::clamp<int64_t>(i, 0, n) : std::clamp<int64_t>(i, -1, n - 1);
        };
        int64_t i = clamp(*lower, k > 0 ? 0 : n - 1), stop = clamp(*upper, k > 0 ? n : -1);
        ConstValue t{Kind::Tuple};
        for (; k > 0 ? i < stop : i > stop; i += k) t.items.push_back(v.items[static_cast<std::size_t>(i)]);
        return t;
      }
      ConstValue index = const_eval(s->slice, env);
      if (v.kind != Kind::Tuple || index.kind != Kind::Int) return ConstValue::unknown();
      int64_t n = static_cast<int64_t>(v.items.size()), i = index.integer < 0 ? index.integer + n : index.integer;
      if (i < 0 || i >= n) return ConstValue::unknown();
      return v.items[static_cast<std::size_t>(i)];
    }
    case ast::NodeKind::Call: {
      auto* c = static_cast<const ast::Call*>(expr);
      auto* f = ast::as<ast::Name>(c->func);
      if (f == nullptr || !c->keywords.empty()) return ConstValue::unknown();
      if (env.call_exprs) {
        std::vector<const ast::ExprNode*> exprs(c->args.begin(), c->args.end());
        if (auto r = env.call_exprs(f->id, exprs)) return *r;
      }
      std::vector<ConstValue> args;
      for (ast::ExprNode* a : c->args) {
        if (ast::is<ast::Starred>(a)) return ConstValue::unknown();
        args.push_back(const_eval(a, env));
      }
      if (f->id == "len" && args.size() == 1) {
        if (args[0].kind == Kind::Tuple) return ConstValue::int_value(static_cast<int64_t>(args[0].items.size()));
        if (args[0].kind == Kind::Str) return ConstValue::int_value(static_cast<int64_t>(args[0].text.size()));
        return ConstValue::unknown();
      }
      if (env.call) {
        if (auto r = env.call(f->id, args)) return *r;
      }
      return ConstValue::unknown();
    }
    default: return ConstValue::unknown();
  }
}

ConstValue literal_value(const ast::ExprNode* expr) { return const_eval(expr, ConstEnv{}); }

std::string to_string(const ConstValue& value) {
  switch (value.kind) {
    case Kind::Unknown: return "<unknown>";
    case Kind::None: return "None";
    case Kind::Bool: return value.integer ? "True" : "False";
    case Kind::Int: return std::to_string(value.integer);
    case Kind::Float: {
      std::string s;
      pyrepr::repr_float(s, value.number);
      return s;
    }
    case Kind::Str: return "'" + value.text + "'";
    case Kind::Tuple: {
      std::string s = "(";
      for (std::size_t i = 0; i < value.items.size(); ++i) {
        if (i) s += ", ";
        s += to_string(value.items[i]);
      }
      if (value.items.size() == 1) s += ",";
      return s + ")";
    }
  }
  return "";
}

}  // namespace t2k::analysis
