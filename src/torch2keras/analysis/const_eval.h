// Compile-time constants: the value of an expression when it is known statically.
//
// The converter never runs the input, but many constructor arguments are
// literals (`nn.Conv2d(3, 16, 3, padding=1)`), and knowing them lets the
// lowering pick the idiomatic Keras form (padding="same") instead of the general
// one. This evaluator covers the literal subset of Python that such arguments
// use: None/bool/int/float/str constants, tuples and lists of them, unary and
// binary arithmetic, comparisons, `and`/`or`/`not`, conditional expressions,
// `len`, and names bound in an environment. Anything else is Unknown, and Unknown
// propagates (`Unknown == 1` is Unknown, `False and Unknown` is False).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "torch2keras/syntax/ast.h"

namespace t2k::analysis {

struct ConstValue {
  enum class Kind : uint8_t { Unknown, None, Bool, Int, Float, Str, Tuple };
  Kind kind = Kind::Unknown;
  int64_t integer = 0;  // Bool (0/1) and Int
  double number = 0;    // Float
  std::string text;     // Str
  std::vector<ConstValue> items;  // Tuple (Python tuples and lists alike)

  static ConstValue unknown() { return {}; }
  static ConstValue none() { return ConstValue{Kind::None}; }
  static ConstValue boolean(bool b) { return ConstValue{Kind::Bool, b ? 1 : 0}; }
  static ConstValue int_value(int64_t i) { return ConstValue{Kind::Int, i}; }
  static ConstValue float_value(double d) { return ConstValue{Kind::Float, 0, d}; }
  static ConstValue str(std::string s) { return ConstValue{Kind::Str, 0, 0, std::move(s)}; }

  bool known() const;  // true when this value and every item are known
  bool is_number() const { return kind == Kind::Bool || kind == Kind::Int || kind == Kind::Float; }
  double as_double() const { return kind == Kind::Float ? number : static_cast<double>(integer); }
  // Python truthiness; nullopt when unknown.
  std::optional<bool> truth() const;
  // Python `==`; nullopt when either side is unknown.
  friend std::optional<bool> equal(const ConstValue& a, const ConstValue& b);
};

// Names the evaluator can look up, and functions it can call (predicates of the
// catalog such as `same_padding`). Either may be empty.
struct ConstEnv {
  std::function<ConstValue(std::string_view name)> lookup;
  std::function<std::optional<ConstValue>(std::string_view name,
                                          const std::vector<ConstValue>& args)>
      call;
  // Tried first for a call of a plain name, with the argument expressions as
  // written (predicates about what an argument is, not its value).
  std::function<std::optional<ConstValue>(std::string_view name, const std::vector<const ast::ExprNode*>& args)>
      call_exprs;
};

ConstValue const_eval(const ast::ExprNode* expr, const ConstEnv& env);

// The literal value of `expr` with no names known (a Constant, a tuple of them...).
ConstValue literal_value(const ast::ExprNode* expr);

// Python repr-like text, for messages and tests: "(3, 3)", "'same'", "None".
std::string to_string(const ConstValue& value);

}  // namespace t2k::analysis
