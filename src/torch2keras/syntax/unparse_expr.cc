// The unparser's expressions, patterns and string literals.
//
// Expressions follow CPython's precedence table (Lib/ast.py, _Precedence): each
// is printed knowing the loosest construct its position allows (`ctx`) and gets
// parentheses only when its own operator binds more loosely than that, so
// `-1 ** 2`, `(-1) ** 2`, `(yield)`, `(x := 1)` and `a[1:2, ::3]` come out as a
// person would write them. Strings are quoted like repr(); f-strings pick their
// quotes so that the output is also valid before Python 3.12 (see fstring()).
//
// expr() recurses once per tree level (at most kMaxTreeDepth) and keeps its frame
// small: everything that needs locals lives in helpers.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <span>

#include "torch2keras/base/pyrepr.h"
#include "torch2keras/base/unicode.h"
#include "torch2keras/syntax/unparse_impl.h"

namespace t2k::syntax::unparse_detail {

namespace {

Prec binary_prec(OperatorKind op) {
  switch (op) {
    case OperatorKind::Add:
    case OperatorKind::Sub: return Prec::Arith;
    case OperatorKind::Mult:
    case OperatorKind::MatMult:
    case OperatorKind::Div:
    case OperatorKind::Mod:
    case OperatorKind::FloorDiv: return Prec::Term;
    case OperatorKind::Pow: return Prec::Power;
    case OperatorKind::LShift:
    case OperatorKind::RShift: return Prec::Shift;
    case OperatorKind::BitOr: return Prec::BitOr;
    case OperatorKind::BitXor: return Prec::BitXor;
    case OperatorKind::BitAnd: return Prec::BitAnd;
  }
  return Prec::Atom;
}

const char* compare_operator(CmpOpKind op) {
  switch (op) {
    case CmpOpKind::Eq: return " == ";
    case CmpOpKind::NotEq: return " != ";
    case CmpOpKind::Lt: return " < ";
    case CmpOpKind::LtE: return " <= ";
    case CmpOpKind::Gt: return " > ";
    case CmpOpKind::GtE: return " >= ";
    case CmpOpKind::Is: return " is ";
    case CmpOpKind::IsNot: return " is not ";
    case CmpOpKind::In: return " in ";
    case CmpOpKind::NotIn: return " not in ";
  }
  return " ? ";
}

// ---- string literal bodies ------------------------------------------------------

// Python's str.isprintable, on one code point. Lone surrogates (WTF-8) never are:
// they can only be written as escapes.
bool printable(char32_t c) {
  if (c >= 0xD800 && c <= 0xDFFF) return false;
  return unicode::is_printable(c);
}

void escape_code_point(std::string& out, char32_t c) {
  char buf[12];
  switch (c) {
    case '\n': out += "\\n"; return;
    case '\r': out += "\\r"; return;
    case '\t': out += "\\t"; return;
    default: break;
  }
  if (c < 0x100)
    std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(c));
  else if (c < 0x10000)
    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
  else
    std::snprintf(buf, sizeof buf, "\\U%08x", static_cast<unsigned>(c));
  out += buf;
}

// Appends the body of a str literal for `wtf8` without choosing quotes, with the
// escapes `mode` asks for.
void escape_str_body(std::string& out, std::string_view wtf8, Escapes mode) {
  for (std::size_t i = 0; i < wtf8.size();) {
    char32_t c = unicode::decode_wtf8(wtf8, i);
    bool raw = false;
    switch (mode) {
      case Escapes::Repr: raw = c != '\\' && printable(c); break;
      case Escapes::Docstring: raw = (c != '\\' && printable(c)) || c == '\n' || c == '\t'; break;
      case Escapes::Raw:
        raw = c != '\\' && c != 0 && c != '\r' && !(c >= 0xD800 && c <= 0xDFFF);
        break;
    }
    if (raw)
      unicode::append_utf8(out, c);
    else if (c == '\\')
      out += "\\\\";
    else
      escape_code_point(out, c);
  }
}

// The same for a bytes literal, which holds ASCII only: printable ASCII stays as
// it is (in Raw mode, any ASCII the source can hold).
void escape_bytes_body(std::string& out, std::string_view bytes, Escapes mode) {
  for (char ch : bytes) {
    auto b = static_cast<unsigned char>(ch);
    bool raw = false;
    switch (mode) {
      case Escapes::Repr: raw = b != '\\' && b >= 0x20 && b < 0x7f; break;
      case Escapes::Docstring:
        raw = (b != '\\' && b >= 0x20 && b < 0x7f) || b == '\n' || b == '\t';
        break;
      case Escapes::Raw: raw = b != '\\' && b != 0 && b != '\r' && b < 0x80; break;
    }
    if (raw)
      out += ch;
    else if (b == '\\')
      out += "\\\\";
    else
      escape_code_point(out, b);
  }
}

// The four quotes, in the order CPython's unparser tries them.
constexpr std::string_view kQuotes[] = {"'", "\"", "\"\"\"", "'''"};

// Whether `body` can sit between `quote`s as it is, with no escape added.
bool fits_unescaped(std::string_view body, std::string_view quote, bool at_end) {
  char c = quote[0];
  if (quote.size() == 1)
    return body.find(c) == std::string_view::npos && body.find('\n') == std::string_view::npos;
  if (body.find(quote) != std::string_view::npos) return false;
  return !(at_end && !body.empty() && body.back() == c);
}

// Whether `text` can stand inside the fields of f-strings quoted with `mask`
// (bits of kQuotes) in 3.11 syntax: the lexer ends such an f-string at the first
// of its quotes, and a single-quoted one at a newline.
bool fits_enclosing(std::string_view text, uint8_t mask) {
  for (std::size_t q = 0; q < std::size(kQuotes); ++q) {
    if ((mask >> q & 1U) == 0) continue;
    if (text.find(kQuotes[q]) != std::string_view::npos) return false;
    if (kQuotes[q].size() == 1 && text.find('\n') != std::string_view::npos) return false;
  }
  return true;
}

// Appends a literal body, escaping the quote character where it would end the
// literal: every one for a single quote; for a triple quote, every third of a run
// (no three in a row) and the last of a run that ends the literal.
void append_quote_escaped(std::string& out, std::string_view body, std::string_view quote,
                          bool at_end) {
  char c = quote[0];
  std::size_t run = 0;  // quote characters just before i
  for (std::size_t i = 0; i < body.size(); ++i) {
    if (body[i] != c) {
      run = 0;
      out += body[i];
      continue;
    }
    ++run;
    bool last = i + 1 == body.size();
    if (quote.size() == 1 || run % 3 == 0 || (last && at_end)) out += '\\';
    out += c;
  }
}

}  // namespace

const char* binary_operator(OperatorKind op) {
  switch (op) {
    case OperatorKind::Add: return "+";
    case OperatorKind::Sub: return "-";
    case OperatorKind::Mult: return "*";
    case OperatorKind::MatMult: return "@";
    case OperatorKind::Div: return "/";
    case OperatorKind::Mod: return "%";
    case OperatorKind::Pow: return "**";
    case OperatorKind::LShift: return "<<";
    case OperatorKind::RShift: return ">>";
    case OperatorKind::BitOr: return "|";
    case OperatorKind::BitXor: return "^";
    case OperatorKind::BitAnd: return "&";
    case OperatorKind::FloorDiv: return "//";
  }
  return "?";
}

void docstring_literal(std::string& out, std::string_view wtf8) {
  std::string body;
  escape_str_body(body, wtf8, Escapes::Docstring);
  // Prefer """ unless the text ends with " (then ''' avoids an escape).
  std::string_view order[2] = {kQuotes[2], kQuotes[3]};
  if (!body.empty() && body.back() == '"') std::swap(order[0], order[1]);
  for (std::string_view q : order) {
    if (body.find(q) != std::string::npos) continue;
    out += q;
    append_quote_escaped(out, body, q, true);
    out += q;
    return;
  }
  // Both """ and ''' occur: escape every ".
  out += kQuotes[2];
  append_quote_escaped(out, body, kQuotes[1], true);
  out += kQuotes[2];
}

// ---- expressions -----------------------------------------------------------------

void Unparser::expr(const ExprNode* e, Prec ctx) {
  // (Constant's field `kind` hides Node::kind.)
  switch (static_cast<const Node*>(e)->kind) {
    case NodeKind::BoolOp: {
      auto* x = static_cast<const BoolOp*>(e);
      Prec own = x->op == BoolOpKind::And ? Prec::And : Prec::Or;
      bool paren = open(own, ctx);
      for (std::size_t i = 0; i < x->values.size(); ++i) {
        if (i != 0) out_ += x->op == BoolOpKind::And ? " and " : " or ";
        // A nested BoolOp of the same kind was parenthesized: `(a and b) and c`.
        expr(x->values[i], next_prec(own));
      }
      close(paren);
      return;
    }
    case NodeKind::NamedExpr: {
      auto* x = static_cast<const NamedExpr*>(e);
      bool paren = open(Prec::NamedExpr, ctx);
      expr(x->target, Prec::Atom);
      out_ += " := ";
      expr(x->value, Prec::Test);
      close(paren);
      return;
    }
    case NodeKind::BinOp: {
      auto* x = static_cast<const BinOp*>(e);
      Prec own = binary_prec(x->op);
      bool paren = open(own, ctx);
      // `**` groups to the right and its right operand is a factor: `a ** -b`.
      bool power = x->op == OperatorKind::Pow;
      expr(x->left, power ? next_prec(own) : own);
      out_ += ' ';
      out_ += binary_operator(x->op);
      out_ += ' ';
      expr(x->right, power ? Prec::Factor : next_prec(own));
      close(paren);
      return;
    }
    case NodeKind::UnaryOp: {
      auto* x = static_cast<const UnaryOp*>(e);
      Prec own = x->op == UnaryOpKind::Not ? Prec::Not : Prec::Factor;
      bool paren = open(own, ctx);
      switch (x->op) {
        case UnaryOpKind::Not: out_ += "not "; break;
        case UnaryOpKind::Invert: out_ += '~'; break;
        case UnaryOpKind::UAdd: out_ += '+'; break;
        case UnaryOpKind::USub: out_ += '-'; break;
      }
      expr(x->operand, own);
      close(paren);
      return;
    }
    case NodeKind::Lambda: {
      auto* x = static_cast<const Lambda*>(e);
      bool paren = open(Prec::Test, ctx);
      out_ += "lambda";
      std::size_t mark = out_.size();
      out_ += ' ';
      arguments(x->args, false);
      if (out_.size() == mark + 1) out_.resize(mark);  // no parameters: `lambda: x`
      out_ += ": ";
      expr(x->body, Prec::Test);
      close(paren);
      return;
    }
    case NodeKind::IfExp: {
      auto* x = static_cast<const IfExp*>(e);
      bool paren = open(Prec::Test, ctx);
      expr(x->body, Prec::Or);
      out_ += " if ";
      expr(x->test, Prec::Or);
      out_ += " else ";
      expr(x->orelse, Prec::Test);
      close(paren);
      return;
    }
    case NodeKind::Dict: {
      auto* x = static_cast<const Dict*>(e);
      out_ += '{';
      for (std::size_t i = 0; i < x->values.size(); ++i) {
        if (i != 0) out_ += ", ";
        const ExprNode* key = i < x->keys.size() ? x->keys[i] : nullptr;
        if (key == nullptr) {
          out_ += "**";
          expr(x->values[i], Prec::BitOr);
        } else {
          expr(key, Prec::Test);
          out_ += ": ";
          expr(x->values[i], Prec::Test);
        }
      }
      out_ += '}';
      return;
    }
    case NodeKind::Set: {
      auto* x = static_cast<const Set*>(e);
      if (x->elts.empty()) {
        out_ += "{*()}";  // there is no empty-set display
        return;
      }
      out_ += '{';
      expr_list(x->elts, Prec::Test);
      out_ += '}';
      return;
    }
    case NodeKind::ListComp: {
      auto* x = static_cast<const ListComp*>(e);
      out_ += '[';
      expr(x->elt, Prec::Test);
      comprehensions(x->generators);
      out_ += ']';
      return;
    }
    case NodeKind::SetComp: {
      auto* x = static_cast<const SetComp*>(e);
      out_ += '{';
      expr(x->elt, Prec::Test);
      comprehensions(x->generators);
      out_ += '}';
      return;
    }
    case NodeKind::DictComp: {
      auto* x = static_cast<const DictComp*>(e);
      out_ += '{';
      expr(x->key, Prec::Test);
      out_ += ": ";
      expr(x->value, Prec::Test);
      comprehensions(x->generators);
      out_ += '}';
      return;
    }
    case NodeKind::GeneratorExp: {
      auto* x = static_cast<const GeneratorExp*>(e);
      out_ += '(';
      expr(x->elt, Prec::Test);
      comprehensions(x->generators);
      out_ += ')';
      return;
    }
    case NodeKind::Await: {
      bool paren = open(Prec::Await, ctx);
      out_ += "await ";
      expr(static_cast<const Await*>(e)->value, Prec::Atom);
      close(paren);
      return;
    }
    case NodeKind::Yield: {
      auto* x = static_cast<const Yield*>(e);
      bool paren = open(Prec::Yield, ctx);
      out_ += "yield";
      if (x->value != nullptr) {
        out_ += ' ';
        star_expressions(x->value);
      }
      close(paren);
      return;
    }
    case NodeKind::YieldFrom: {
      bool paren = open(Prec::Yield, ctx);
      out_ += "yield from ";
      expr(static_cast<const YieldFrom*>(e)->value, Prec::Test);
      close(paren);
      return;
    }
    case NodeKind::Compare: {
      auto* x = static_cast<const Compare*>(e);
      bool paren = open(Prec::Cmp, ctx);
      expr(x->left, Prec::BitOr);
      for (std::size_t i = 0; i < x->ops.size() && i < x->comparators.size(); ++i) {
        out_ += compare_operator(x->ops[i]);
        expr(x->comparators[i], Prec::BitOr);
      }
      close(paren);
      return;
    }
    case NodeKind::Call: {
      auto* x = static_cast<const Call*>(e);
      expr(x->func, Prec::Atom);
      // A lone generator argument brings its own parentheses: `f(x for x in y)`.
      if (x->args.size() == 1 && x->keywords.empty() && is<GeneratorExp>(x->args[0])) {
        expr(x->args[0], Prec::Test);
        return;
      }
      out_ += '(';
      call_arguments(x->args, x->keywords);
      out_ += ')';
      return;
    }
    case NodeKind::FormattedValue: {
      // Only inside a JoinedStr in a parsed tree; alone, it is an f-string of one field.
      ExprNode* self = const_cast<ExprNode*>(e);
      fstring(Seq<ExprNode*>(std::span<ExprNode*>(&self, 1)));
      return;
    }
    case NodeKind::JoinedStr: {
      const auto* j = static_cast<const JoinedStr*>(e);
      auto has_u = [](const ExprNode* v) {
        auto* c = as<Constant>(v);
        return c != nullptr && c->kind.data() != nullptr;
      };
      bool any_u = std::any_of(j->values.begin(), j->values.end(), has_u);
      if (!any_u) {
        fstring(j->values);
        return;
      }
      if (options_.minor < 12) {
        // 3.11: the first token's `u` marks every literal part, so an empty
        // u-string in front reproduces the kinds.
        if (in_field())
          field_string("", 'u');
        else
          out_ += "u''";
        out_ += ' ';
        fstring(j->values);
        return;
      }
      // 3.12: each literal part takes its kind from the token it starts in, so a
      // u-marked part is written as its own u-string between f-strings.
      std::size_t run = 0;
      bool first = true;
      auto flush = [&](std::size_t end) {
        if (end == run) return;
        if (!first) out_ += ' ';
        first = false;
        fstring(Seq<ExprNode*>(std::span<ExprNode*>(&j->values[run], end - run)));
      };
      for (std::size_t i = 0; i < j->values.size(); ++i) {
        if (!has_u(j->values[i])) continue;
        flush(i);
        if (!first) out_ += ' ';
        first = false;
        out_ += 'u';
        pyrepr::repr_str(out_, as<Constant>(j->values[i])->value.text);
        run = i + 1;
      }
      flush(j->values.size());
      if (run == j->values.size() && j->values.size() == 1) out_ += " f''";  // stay a JoinedStr
      return;
    }
    case NodeKind::Constant: constant(static_cast<const Constant*>(e), ctx); return;
    case NodeKind::Attribute: {
      auto* x = static_cast<const Attribute*>(e);
      expr(x->value, Prec::Atom);
      // `1.real` would lex as the float `1.`; CPython writes `1 .real`.
      if (auto* c = as<Constant>(x->value);
          c != nullptr && c->value.kind == ConstantValue::Kind::Int && out_.back() != ')')
        out_ += ' ';
      out_ += '.';
      out_ += x->attr;
      return;
    }
    case NodeKind::Subscript: {
      auto* x = static_cast<const Subscript*>(e);
      expr(x->value, Prec::Atom);
      out_ += '[';
      subscript_slice(x->slice);
      out_ += ']';
      return;
    }
    case NodeKind::Starred:
      out_ += '*';
      expr(static_cast<const Starred*>(e)->value, Prec::BitOr);
      return;
    case NodeKind::Name: out_ += static_cast<const Name*>(e)->id; return;
    case NodeKind::List:
      out_ += '[';
      expr_list(static_cast<const List*>(e)->elts, Prec::Test);
      out_ += ']';
      return;
    case NodeKind::Tuple: {
      auto* x = static_cast<const Tuple*>(e);
      // Bare where the grammar allows (`return a, b`), except that `()` and `(a,)`
      // keep theirs for readability.
      bool paren = ctx > Prec::Tuple || x->elts.size() <= 1;
      if (paren) out_ += '(';
      expr_list(x->elts, Prec::Test);
      if (x->elts.size() == 1) out_ += ',';
      if (paren) out_ += ')';
      return;
    }
    case NodeKind::Slice: {
      auto* x = static_cast<const Slice*>(e);
      if (x->lower != nullptr) expr(x->lower, Prec::Test);
      out_ += ':';
      if (x->upper != nullptr) expr(x->upper, Prec::Test);
      if (x->step != nullptr) {
        out_ += ':';
        expr(x->step, Prec::Test);
      }
      return;
    }
    default: return;  // not an expression
  }
}

void Unparser::expr_list(Seq<ExprNode*> items, Prec ctx) {
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i != 0) out_ += ", ";
    expr(items[i], ctx);
  }
}

// `a[1:2, ::3]`: a tuple slice prints bare since slices cannot be parenthesized
// (and `a[(1, 2)]` is the same tree as `a[1, 2]`); `a[*b]` is a one-item tuple.
void Unparser::subscript_slice(const ExprNode* slice) {
  auto* t = as<Tuple>(slice);
  if (t == nullptr || t->elts.empty()) {
    expr(slice, Prec::Test);
    return;
  }
  expr_list(t->elts, Prec::Test);
  if (t->elts.size() == 1 && !is<Starred>(t->elts[0])) out_ += ',';
}

void Unparser::constant(const Constant* c, Prec ctx) {
  const ConstantValue& v = c->value;
  switch (v.kind) {
    case ConstantValue::Kind::None: out_ += "None"; return;
    case ConstantValue::Kind::True: out_ += "True"; return;
    case ConstantValue::Kind::False: out_ += "False"; return;
    case ConstantValue::Kind::Ellipsis: out_ += "..."; return;
    case ConstantValue::Kind::Int: {
      // A rewriter may store a negative value; it then reads as a unary minus.
      bool paren = !v.text.empty() && v.text[0] == '-' && open(Prec::Factor, ctx);
      out_ += v.text;
      close(paren);
      return;
    }
    case ConstantValue::Kind::Float: number(v.number, false, ctx); return;
    case ConstantValue::Kind::Complex: number(v.number, true, ctx); return;
    case ConstantValue::Kind::Str: {
      bool u = c->kind.data() != nullptr && c->kind == "u";
      if (!in_field()) {
        if (u) out_ += 'u';
        pyrepr::repr_str(out_, v.text);
        return;
      }
      std::string body;
      escape_str_body(body, v.text, field_escapes());
      field_string(body, u ? 'u' : 0);
      return;
    }
    case ConstantValue::Kind::Bytes: {
      if (!in_field()) {
        pyrepr::repr_bytes(out_, v.text);
        return;
      }
      std::string body;
      escape_bytes_body(body, v.text, field_escapes());
      field_string(body, 'b');
      return;
    }
  }
}

// Floats and imaginary numbers as repr() writes them; infinity has no literal, so
// it is written as 1e309 (larger than any double), NaN as 1e309 - 1e309.
void Unparser::number(double value, bool imaginary, Prec ctx) {
  if (std::isnan(value)) {
    out_ += imaginary ? "(1e309j - 1e309j)" : "(1e309 - 1e309)";
    return;
  }
  bool paren = std::signbit(value) && open(Prec::Factor, ctx);
  if (std::isinf(value)) {
    out_ += value < 0 ? "-1e309" : "1e309";
    if (imaginary) out_ += 'j';
  } else if (imaginary) {
    pyrepr::repr_imaginary(out_, value);
  } else {
    pyrepr::repr_float(out_, value);
  }
  close(paren);
}

void Unparser::comprehensions(Seq<Comprehension*> generators) {
  for (const Comprehension* c : generators) {
    out_ += ' ';
    comprehension(c);
  }
}

void Unparser::comprehension(const Comprehension* c) {
  out_ += c->is_async != 0 ? "async for " : "for ";
  expr(c->target, Prec::Tuple);
  out_ += " in ";
  expr(c->iter, Prec::Or);
  for (const ExprNode* cond : c->ifs) {
    out_ += " if ";
    expr(cond, Prec::Or);
  }
}

// Positional arguments first, then keywords: `f(a, *b, c=1, *d)` has the same tree
// as `f(a, *b, *d, c=1)`, and a `**` never precedes a positional in a valid tree.
void Unparser::call_arguments(Seq<ExprNode*> args, Seq<Keyword*> keywords) {
  expr_list(args, Prec::Test);
  for (std::size_t i = 0; i < keywords.size(); ++i) {
    if (i != 0 || !args.empty()) out_ += ", ";
    keyword(keywords[i]);
  }
}

void Unparser::keyword(const Keyword* k) {
  if (k->arg.data() == nullptr) {
    out_ += "**";
  } else {
    out_ += k->arg;
    out_ += '=';
  }
  expr(k->value, Prec::Test);
}

void Unparser::arguments(const Arguments* a, bool annotations) {
  bool first = true;
  auto separate = [&] {
    if (!first) out_ += ", ";
    first = false;
  };
  // `defaults` belong to the last positional parameters.
  std::size_t positional = a->posonlyargs.size() + a->args.size();
  std::size_t first_default =
      positional >= a->defaults.size() ? positional - a->defaults.size() : 0;
  for (std::size_t i = 0; i < positional; ++i) {
    bool posonly = i < a->posonlyargs.size();
    const Arg* p = posonly ? a->posonlyargs[i] : a->args[i - a->posonlyargs.size()];
    separate();
    arg(p, annotations);
    if (i >= first_default) {
      out_ += annotations && p->annotation != nullptr ? " = " : "=";
      expr(a->defaults[i - first_default], Prec::Test);
    }
    if (posonly && i + 1 == a->posonlyargs.size()) {
      separate();
      out_ += '/';
    }
  }
  if (a->vararg != nullptr || !a->kwonlyargs.empty()) {
    separate();
    out_ += '*';
    if (a->vararg != nullptr) arg(a->vararg, annotations);
  }
  for (std::size_t i = 0; i < a->kwonlyargs.size(); ++i) {
    const Arg* p = a->kwonlyargs[i];
    separate();
    arg(p, annotations);
    const ExprNode* d = i < a->kw_defaults.size() ? a->kw_defaults[i] : nullptr;
    if (d != nullptr) {
      out_ += annotations && p->annotation != nullptr ? " = " : "=";
      expr(d, Prec::Test);
    }
  }
  if (a->kwarg != nullptr) {
    separate();
    out_ += "**";
    arg(a->kwarg, annotations);
  }
}

void Unparser::arg(const Arg* a, bool annotation) {
  out_ += a->arg;
  if (annotation && a->annotation != nullptr) {
    out_ += ": ";
    expr(a->annotation, Prec::Test);  // `*args: *Ts` is a Starred annotation
  }
}

void Unparser::type_params(Seq<TypeParamNode*> params) {
  if (params.empty()) return;
  out_ += '[';
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (i != 0) out_ += ", ";
    type_param(params[i]);
  }
  out_ += ']';
}

void Unparser::type_param(const TypeParamNode* p) {
  if (auto* v = as<TypeVar>(p)) {
    out_ += v->name;
    if (v->bound != nullptr) {
      out_ += ": ";
      expr(v->bound, Prec::Test);
    }
  } else if (auto* s = as<ParamSpec>(p)) {
    out_ += "**";
    out_ += s->name;
  } else if (auto* t = as<TypeVarTuple>(p)) {
    out_ += '*';
    out_ += t->name;
  }
}

// ---- patterns ----------------------------------------------------------------------

// Patterns reuse the expression precedences: an or-pattern binds like `|`, an
// as-pattern like a test, everything else is an atom.
void Unparser::pattern(const PatternNode* p, Prec ctx) {
  switch (p->kind) {
    case NodeKind::MatchValue:
      // Literals (`-1`, `1 + 2j`) and dotted names: no parentheses ever needed.
      expr(static_cast<const MatchValue*>(p)->value, Prec::NamedExpr);
      return;
    case NodeKind::MatchSingleton: {
      auto k = static_cast<const MatchSingleton*>(p)->value.kind;
      out_ += k == ConstantValue::Kind::True    ? "True"
              : k == ConstantValue::Kind::False ? "False"
                                                : "None";
      return;
    }
    case NodeKind::MatchSequence:
      // Brackets: `(p)` would be a group and `[p]` is the one-item sequence.
      out_ += '[';
      patterns(static_cast<const MatchSequence*>(p)->patterns);
      out_ += ']';
      return;
    case NodeKind::MatchMapping: {
      auto* x = static_cast<const MatchMapping*>(p);
      out_ += '{';
      for (std::size_t i = 0; i < x->keys.size() && i < x->patterns.size(); ++i) {
        if (i != 0) out_ += ", ";
        expr(x->keys[i], Prec::NamedExpr);
        out_ += ": ";
        pattern(x->patterns[i], Prec::Test);
      }
      if (x->rest.data() != nullptr) {
        if (!x->keys.empty()) out_ += ", ";
        out_ += "**";
        out_ += x->rest;
      }
      out_ += '}';
      return;
    }
    case NodeKind::MatchClass: {
      auto* x = static_cast<const MatchClass*>(p);
      expr(x->cls, Prec::Atom);
      out_ += '(';
      patterns(x->patterns);
      for (std::size_t i = 0; i < x->kwd_attrs.size() && i < x->kwd_patterns.size(); ++i) {
        if (i != 0 || !x->patterns.empty()) out_ += ", ";
        out_ += x->kwd_attrs[i];
        out_ += '=';
        pattern(x->kwd_patterns[i], Prec::Test);
      }
      out_ += ')';
      return;
    }
    case NodeKind::MatchStar: {
      auto* x = static_cast<const MatchStar*>(p);
      out_ += '*';
      out_ += x->name.data() != nullptr ? x->name : std::string_view("_");
      return;
    }
    case NodeKind::MatchAs: {
      auto* x = static_cast<const MatchAs*>(p);
      if (x->name.data() == nullptr) {
        out_ += '_';
      } else if (x->pattern == nullptr) {
        out_ += x->name;
      } else {
        bool paren = open(Prec::Test, ctx);
        pattern(x->pattern, Prec::BitOr);
        out_ += " as ";
        out_ += x->name;
        close(paren);
      }
      return;
    }
    case NodeKind::MatchOr: {
      auto* x = static_cast<const MatchOr*>(p);
      bool paren = open(Prec::BitOr, ctx);
      for (std::size_t i = 0; i < x->patterns.size(); ++i) {
        if (i != 0) out_ += " | ";
        pattern(x->patterns[i], next_prec(Prec::BitOr));
      }
      close(paren);
      return;
    }
    default: return;
  }
}

void Unparser::patterns(Seq<PatternNode*> list) {
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (i != 0) out_ += ", ";
    pattern(list[i], Prec::Test);
  }
}

// ---- f-strings ------------------------------------------------------------------------
//
// Before 3.12 (PEP 701) a replacement field may not contain a backslash nor the
// quote of any f-string it is in, and only a triple-quoted f-string may hold a
// newline. So strings inside a field keep their characters raw (a vertical tab
// is written as itself) and pick quotes that need no escape; nested f-strings
// may not escape their literal text either.
//
// The quotes are found in two steps. First the fields are printed with each
// string taking the first of ' " """ ''' that fits its text and the quotes
// already chosen around it, and the f-string takes the first quote that none of
// its fields uses (literal text at the top level can escape its quotes): this is
// the output for nearly every f-string. When that fails (`f"{'''\n'''}"` inside
// an f'''...''' field, say), each quote in turn is fixed first and the fields are
// printed around it. Each level excludes its own quote for the levels inside, so
// at most four f-strings nest and the search is bounded. Where no 3.11 spelling
// exists (only for trees that no 3.11 source produces) the f-string is printed
// the 3.12 way, reusing quotes and escapes inside fields.

namespace {

// Valid 3.11 source nests at most four f-strings (quoted ''', """, ', " from the
// outside in): a fifth one's quote would contain one of theirs.
constexpr int kMaxFStringNesting = 4;

}  // namespace

// A str or bytes literal inside a field: the first quote that holds `body` (with
// `prefix`) with no escape and fits the enclosing quotes; else a failure.
void Unparser::field_string(std::string_view body, char prefix) {
  if (body.find('\\') != std::string_view::npos) {
    avoid_failed_ = true;  // the output is discarded
    return;
  }
  std::string text;
  for (std::string_view q : kQuotes) {
    if (!fits_unescaped(body, q, true)) continue;
    text.clear();
    if (prefix != 0) text += prefix;
    text += q;
    text += body;
    text += q;
    if (!fits_enclosing(text, enclosing_quotes_)) continue;
    out_ += text;
    return;
  }
  avoid_failed_ = true;
}

bool Unparser::is_empty_str(const ExprNode* e) {
  auto* c = as<Constant>(e);
  return c != nullptr && c->value.kind == ConstantValue::Kind::Str && c->value.text.empty();
}

std::string Unparser::subexpression(const ExprNode* e) {
  std::string saved;
  std::swap(saved, out_);
  expr(e, Prec::Or);  // a lambda, if-else or walrus keeps its parentheses inside {}
  std::swap(saved, out_);
  return saved;
}

void Unparser::formatted_value(const FormattedValue* f, std::vector<FPart>& parts, Escapes escapes,
                               bool after_empty) {
  std::string code = "{";
  std::string inner = subexpression(f->value);
  // `{ {a: b}}`, not an escaped `{{`. In a format spec `{{` opens a field too,
  // and 3.12 puts an empty Constant before it: after one, no space, so that the
  // tree comes back the same.
  if (!inner.empty() && inner[0] == '{' && !after_empty) code += ' ';
  code += inner;
  if (f->conversion >= 0) {
    code += '!';
    code += static_cast<char>(f->conversion);
  }
  if (f->format_spec == nullptr) {
    code += '}';
    parts.push_back({std::move(code), false});
    return;
  }
  code += ':';
  parts.push_back({std::move(code), false});
  if (auto* spec = as<JoinedStr>(f->format_spec)) {
    fstring_parts(spec->values, parts, escapes, true);
  } else {
    ExprNode* only = f->format_spec;
    fstring_parts(Seq<ExprNode*>(std::span<ExprNode*>(&only, 1)), parts, escapes, true);
  }
  parts.push_back({"}", false});
}

void Unparser::fstring_parts(Seq<ExprNode*> values, std::vector<FPart>& parts, Escapes escapes,
                             bool spec) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    const ExprNode* v = values[i];
    bool after_empty = spec && i >= 1 && is_empty_str(values[i - 1]);
    auto* c = as<Constant>(v);
    if (c != nullptr && c->value.kind == ConstantValue::Kind::Str) {
      std::string doubled;
      for (char ch : c->value.text) {
        doubled += ch;
        if (ch == '{' || ch == '}') doubled += ch;
      }
      if (parts.empty() || !parts.back().literal) parts.push_back({"", true});
      escape_str_body(parts.back().text, doubled, escapes);
    } else if (auto* f = as<FormattedValue>(v)) {
      formatted_value(f, parts, escapes, after_empty);
    } else {
      // Not produced by the parser: any other expression becomes a field.
      std::string code = "{";
      code += subexpression(v);
      code += '}';
      parts.push_back({std::move(code), false});
    }
  }
}

void Unparser::fstring(Seq<ExprNode*> values) {
  if (avoid_failed_) return;  // an enclosing 3.11 attempt has already failed
  bool nested = in_field();
  if (fstring_depth_ < kMaxFStringNesting && fstring_311(values)) return;
  if (nested) {
    avoid_failed_ = true;
    return;
  }
  // The 3.12 form: fields are printed as anywhere else and may reuse the quote.
  std::vector<FPart> parts;
  fstring_parts(values, parts, Escapes::Repr, false);
  bool has_single = false, has_double = false;
  for (const FPart& p : parts) {
    if (!p.literal) continue;
    has_single |= p.text.find('\'') != std::string::npos;
    has_double |= p.text.find('"') != std::string::npos;
  }
  std::string_view quote = has_single && !has_double ? kQuotes[1] : kQuotes[0];
  out_ += 'f';
  out_ += quote;
  for (const FPart& p : parts) {
    if (p.literal)
      append_quote_escaped(out_, p.text, quote, true);
    else
      out_ += p.text;
  }
  out_ += quote;
}

// The 3.11 form, if there is one: appended, and true.
bool Unparser::fstring_311(Seq<ExprNode*> values) {
  std::string text;
  bool found = fstring_311_try(values, -1, text);
  for (int q = 0; q < static_cast<int>(std::size(kQuotes)) && !found; ++q)
    found = fstring_311_try(values, q, text);
  if (found) out_ += text;
  return found;
}

// One try at the 3.11 form: with `fixed_quote` (an index of kQuotes) known to the
// fields while they are printed, or with the quote chosen afterwards (-1). Sets
// `text` to the f-string on success.
bool Unparser::fstring_311_try(Seq<ExprNode*> values, int fixed_quote, std::string& text) {
  uint8_t enclosing = enclosing_quotes_;
  if (fixed_quote >= 0 && !fits_enclosing(kQuotes[fixed_quote], enclosing)) return false;
  // Nested in another f-string's field, even the literal text may not use
  // escapes.
  bool nested = in_field();
  std::vector<FPart> parts;
  if (fixed_quote >= 0) enclosing_quotes_ = static_cast<uint8_t>(enclosing | 1U << fixed_quote);
  ++fstring_depth_;
  fstring_parts(values, parts, nested ? field_escapes() : Escapes::Repr, false);
  --fstring_depth_;
  enclosing_quotes_ = enclosing;
  if (avoid_failed_) {
    avoid_failed_ = false;
    return false;
  }
  bool found = false, found_escapes = true;
  std::string candidate;
  for (int q = 0; q < static_cast<int>(std::size(kQuotes)); ++q) {
    if (fixed_quote >= 0 && q != fixed_quote) continue;
    std::string_view quote = kQuotes[q];
    bool ok = true, escapes = false;
    for (std::size_t i = 0; i < parts.size() && ok; ++i) {
      const FPart& p = parts[i];
      bool fits = fits_unescaped(p.text, quote, i + 1 == parts.size());
      if (!p.literal || nested)
        ok = fits && p.text.find('\\') == std::string::npos;
      else if (!fits)
        escapes = true;  // literal text may escape its quotes
    }
    if (!ok || (found && (!found_escapes || escapes))) continue;
    candidate = 'f';
    candidate += quote;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (parts[i].literal)
        append_quote_escaped(candidate, parts[i].text, quote, i + 1 == parts.size());
      else
        candidate += parts[i].text;
    }
    candidate += quote;
    if (!fits_enclosing(candidate, enclosing)) continue;
    std::swap(text, candidate);
    found = true;
    found_escapes = escapes;
  }
  return found;
}

// ---- roots ------------------------------------------------------------------------------

void Unparser::root_expr(const ExprNode* e) {
  if (options_.comments != nullptr) {
    // An expression has no lines to attach comments to: they go first.
    for (const Comment& c : *options_.comments) {
      comment_text(&c);
      out_ += '\n';
    }
  }
  star_expressions(e);
}

void Unparser::function_type(const FunctionType* f) {
  out_ += '(';
  expr_list(f->argtypes, Prec::Test);
  out_ += ") -> ";
  expr(f->returns, Prec::Test);
}

void Unparser::other(const Node* n) {
  switch (n->kind) {
    case NodeKind::Arguments: arguments(static_cast<const Arguments*>(n), true); return;
    case NodeKind::Arg: arg(static_cast<const Arg*>(n), true); return;
    case NodeKind::Keyword: keyword(static_cast<const Keyword*>(n)); return;
    case NodeKind::Alias: alias(static_cast<const Alias*>(n)); return;
    case NodeKind::WithItem: with_item(static_cast<const WithItem*>(n)); return;
    case NodeKind::Comprehension: comprehension(static_cast<const Comprehension*>(n)); return;
    case NodeKind::MatchCase: match_case(static_cast<const MatchCase*>(n), 0); return;
    case NodeKind::ExceptHandler:
      except_handler(static_cast<const ExceptHandler*>(n), "except", 0);
      return;
    default: break;
  }
  switch (category(n->kind)) {
    case Category::Pattern: pattern(static_cast<const PatternNode*>(n), Prec::NamedExpr); return;
    case Category::TypeParam: type_param(static_cast<const TypeParamNode*>(n)); return;
    default: return;  // TypeIgnore: never produced, no source form
  }
}

}  // namespace t2k::syntax::unparse_detail
