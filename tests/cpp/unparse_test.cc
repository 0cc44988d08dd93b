// Tests of the unparser (syntax/unparse.h): exact output for precedence,
// statements, patterns, strings, f-strings, comments and layout, and the round
// trip parse(unparse(parse(M))) == parse(M) for each case. The stdlib-scale
// round trip against CPython is tools/check_roundtrip.py.
#include "torch2keras/syntax/unparse.h"

#include <gtest/gtest.h>

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "torch2keras/base/arena.h"
#include "torch2keras/syntax/ast_dump.h"
#include "torch2keras/syntax/parser.h"

namespace t2k::syntax {
namespace {

using namespace ast;

std::unique_ptr<ParsedSource> parse(std::string_view source, int minor, Mode mode) {
  ParseOptions options;
  options.minor = minor;
  options.mode = mode;
  return parse_source(source, options);
}

std::string dump(const ParsedSource& parsed, int minor) {
  if (parsed.error) return "ERROR " + parsed.error->message;
  std::string out;
  DumpOptions options;
  options.minor = minor;
  dump_ast(out, parsed.tree, options);
  return out;
}

// Unparses `source` (with its comments) and checks that the output parses back to
// the same tree. Returns the output.
std::string round_trip(std::string_view source, int minor = 11, Mode mode = Mode::Exec,
                       int target_minor = 0, int added_comments = 0) {
  auto parsed = parse(source, minor, mode);
  if (parsed->error) {
    ADD_FAILURE() << "does not parse: " << parsed->error->message << "\n" << source;
    return "";
  }
  UnparseOptions options;
  options.comments = &parsed->comments;
  options.minor = target_minor != 0 ? target_minor : minor;
  std::string out = unparse(parsed->tree, options);
  auto again = parse(out, minor, mode);
  EXPECT_EQ(dump(*parsed, minor), dump(*again, minor)) << "source:\n"
                                                       << source << "\noutput:\n"
                                                       << out;
  EXPECT_EQ(again->comments.size(), parsed->comments.size() + added_comments) << out;
  return out;
}

std::string expr_round_trip(std::string_view source, int minor = 11) {
  return round_trip(source, minor, Mode::Eval);
}

struct Case {
  const char* source;
  const char* expected;
};

void expect_exprs(std::initializer_list<Case> cases, int minor = 11) {
  for (const Case& c : cases) EXPECT_EQ(expr_round_trip(c.source, minor), c.expected) << c.source;
}

TEST(UnparseTest, PowerAndUnaryMinus) {
  expect_exprs({
      {"-1 ** 2", "-1 ** 2"},
      {"(-1) ** 2", "(-1) ** 2"},
      {"2 ** -1", "2 ** -1"},
      {"(2 ** 3) ** 4", "(2 ** 3) ** 4"},
      {"2 ** 3 ** 4", "2 ** 3 ** 4"},
      {"-(-x)", "--x"},
      {"-(x + 1)", "-(x + 1)"},
      {"~-+x", "~-+x"},
      {"(-x).y", "(-x).y"},
  });
}

TEST(UnparseTest, BinaryOperatorsAndComparisons) {
  expect_exprs({
      {"a - (b - c)", "a - (b - c)"},
      {"(a - b) - c", "a - b - c"},
      {"a * (b + c)", "a * (b + c)"},
      {"(a + b) * c @ d", "(a + b) * c @ d"},
      {"a | b ^ c & d << e + f * g ** h", "a | b ^ c & d << e + f * g ** h"},
      {"((a | b) ^ c) & d", "((a | b) ^ c) & d"},
      {"a // b % c", "a // b % c"},
      {"a < b < c", "a < b < c"},
      {"(a < b) < c", "(a < b) < c"},
      {"a is not b not in c", "a is not b not in c"},
      {"(a == b) + 1", "(a == b) + 1"},
  });
}

TEST(UnparseTest, BooleanOperatorsAndTests) {
  expect_exprs({
      {"a or b and c", "a or b and c"},
      {"(a or b) and c", "(a or b) and c"},
      {"(a and b) and c", "(a and b) and c"},
      {"a and b and c", "a and b and c"},
      {"not a == b", "not a == b"},
      {"(not a) == b", "(not a) == b"},
      {"not not a", "not not a"},
      {"a if b else c if d else e", "a if b else c if d else e"},
      {"(a if b else c) if d else e", "(a if b else c) if d else e"},
      {"a if (b if c else d) else e", "a if (b if c else d) else e"},
      {"(lambda: 1) if c else lambda: 2", "(lambda: 1) if c else lambda: 2"},
      {"lambda x=lambda: 1: x", "lambda x=lambda: 1: x"},
      {"(lambda: 1)()", "(lambda: 1)()"},
      {"lambda a, /, b=1, *c, d, e=2, **f: 0", "lambda a, /, b=1, *c, d, e=2, **f: 0"},
      {"lambda *, a: a", "lambda *, a: a"},
  });
}

TEST(UnparseTest, WalrusYieldAwaitStarred) {
  expect_exprs({
      {"(x := 1)", "(x := 1)"},
      {"f(x := 1)", "f((x := 1))"},
      {"(x := (a, b))", "(x := (a, b))"},
      {"(yield)", "(yield)"},
      {"[(yield x)]", "[(yield x)]"},
      {"(yield) + 1", "(yield) + 1"},
      {"lambda: (yield)", "lambda: (yield)"},
      {"f(*a, *b, c=1, **d)", "f(*a, *b, c=1, **d)"},
      {"f(*(a or b))", "f(*(a or b))"},
      {"[*a, *(b | c), *(d or e)]", "[*a, *b | c, *(d or e)]"},
      {"{**a, 'b': 1, **{c: d}}", "{**a, 'b': 1, **{c: d}}"},
  });
  std::string out = round_trip(
      "async def f():\n    await (-x)\n    (await x) ** 2\n    await x ** 2\n    "
      "[await y async for y in z]\n");
  EXPECT_EQ(out,
            "async def f():\n    await (-x)\n    await x ** 2\n    await x ** 2\n    "
            "[await y async for y in z]\n");
}

TEST(UnparseTest, TuplesAndSubscripts) {
  expect_exprs({
      {"a, b", "a, b"},
      {"(a,)", "(a,)"},
      {"()", "()"},
      {"((a, b), c)", "(a, b), c"},
      {"a[1:2, ::3]", "a[1:2, ::3]"},
      {"a[(1, 2)]", "a[1, 2]"},
      {"a[1,]", "a[1,]"},
      {"a[()]", "a[()]"},
      {"a[*b]", "a[*b]"},
      {"a[b, *c]", "a[b, *c]"},
      {"a[::]", "a[:]"},
      {"a[:, None]", "a[:, None]"},
      {"a[x := 1]", "a[(x := 1)]"},
      {"a[(1, 2), 3]", "a[(1, 2), 3]"},
      {"(a, b).count", "(a, b).count"},
      {"1 .real", "1 .real"},
      {"(1).real", "1 .real"},
      {"1.5.real", "1.5.real"},
      {"f(x for x in y)", "f(x for x in y)"},
      {"f((x for x in y), z)", "f((x for x in y), z)"},
      {"[x for x in (y if z else w) if a if not b]", "[x for x in (y if z else w) if a if not b]"},
      {"{k: v for k, v in d.items()}", "{k: v for k, v in d.items()}"},
      {"[x async for x in y]", "[x async for x in y]"},
  });
}

TEST(UnparseTest, Constants) {
  expect_exprs({
      {"1e309", "1e309"},
      {"-1e309", "-1e309"},
      {"1e309j", "1e309j"},
      {"2j", "2j"},
      {"1.5e300", "1.5e+300"},
      {"0.1", "0.1"},
      {"1e16", "1e+16"},
      {"10.0", "10.0"},
      {"123456789012345678901234567890", "123456789012345678901234567890"},
      {"0xff", "255"},
      {"1_000", "1000"},
      {"...", "..."},
      {"None, True, False", "None, True, False"},
      {"'a' 'b'", "'ab'"},
      {"u'x' 'y'", "u'xy'"},
      {"'\\''", "\"'\""},
      {"'\\'\"'", "'\\'\"'"},
      {"b'\\x00' b'\\''", "b\"\\x00'\""},
      {"'\\\\'", "'\\\\'"},
      {"'\\n\\t'", "'\\n\\t'"},
  });
}

TEST(UnparseTest, NegativeConstantsBuiltByHand) {
  // A rewriter may store -1 as a Constant; it must print as a unary minus would.
  Arena arena;
  auto make = [&]<class T>(T*) {
    T* n = arena.make<T>();
    static_cast<Node*>(n)->kind = T::kKind;
    return n;
  };
  auto* minus_one = make(static_cast<Constant*>(nullptr));
  minus_one->value.kind = ConstantValue::Kind::Int;
  minus_one->value.text = "-1";
  auto* two = make(static_cast<Constant*>(nullptr));
  two->value.kind = ConstantValue::Kind::Float;
  two->value.number = -2.5;
  auto* pow = make(static_cast<BinOp*>(nullptr));
  pow->op = OperatorKind::Pow;
  pow->left = minus_one;
  pow->right = two;
  EXPECT_EQ(unparse(pow), "(-1) ** -2.5");
  auto* attr = make(static_cast<Attribute*>(nullptr));
  attr->value = minus_one;
  attr->attr = "real";
  EXPECT_EQ(unparse(attr), "(-1).real");
}

TEST(UnparseTest, FStrings) {
  expect_exprs({
      {"f'{x!r:>{width}}'", "f'{x!r:>{width}}'"},
      {"f'{x[\"k\"]}'", "f\"{x['k']}\""},
      {"f\"{x['k']}\"", "f\"{x['k']}\""},
      {"f'{ {1: 2}[1] }'", "f'{ {1: 2}[1]}'"},
      {"f'{a if b else c}'", "f'{(a if b else c)}'"},
      {"f'{(lambda: 1)()}'", "f'{(lambda: 1)()}'"},
      {"f'{x=}'", "f'x={x!r}'"},
      {"f'{{}}{x}}}'", "f'{{}}{x}}}'"},
      {"f'\\n{x}\\t\\\\'", "f'\\n{x}\\t\\\\'"},
      {"f'{x:}'", "f'{x:}'"},
      {"f''", "f''"},
      {"f'a' 'b' f'{c}'", "f'ab{c}'"},
      {"f'''{x[\"a'\"]}'''", "f\"\"\"{x[\"a'\"]}\"\"\""},
      {"f'''{x:'}'''", "f\"{x:'}\""},
      {"f'{x:\\n}'", "f'{x:\\n}'"},
      {"f'{\"#\"}'", "f\"{'#'}\""},
      {"f'{a!=b}{a==b}'", "f'{a != b}{a == b}'"},
      {"f'''{f\"\"\"{f'{f\"{x}\"}'}\"\"\"}'''", "f'''{f\"\"\"{f\"{f'{x}'}\"}\"\"\"}'''"},
      {"f'''{\"\"\"\n\"\"\".join(x)}'''", "f'''{\"\"\"\n\"\"\".join(x)}'''"},
      {"f\"it's {x}\"", "f\"it's {x}\""},
      {"f'''a'b\"c{x}'''", "f\"\"\"a'b\"c{x}\"\"\""},
  });
}

TEST(UnparseTest, FStringsPep701) {
  // 3.12 source; printed for 3.12 where the 3.11 form would need raw newlines.
  EXPECT_EQ(expr_round_trip("f'{'a'}'", 12), "f\"{'a'}\"");
  EXPECT_EQ(expr_round_trip("f'{\"\\n\".join(x)}'", 12), "f'{'\\n'.join(x)}'");
  EXPECT_EQ(expr_round_trip("f'{f'{f'{x}'}'}'", 12), "f\"\"\"{f\"{f'{x}'}\"}\"\"\"");
  // The same tree printed for 3.11 avoids backslashes in the field.
  EXPECT_EQ(round_trip("f'{\"\\n\".join(x)}'", 12, Mode::Eval, 11),
            "f'''{\"\"\"\n\"\"\".join(x)}'''");
  // No 3.11 spelling exists for a backslash inside a field: the 3.12 one is used.
  EXPECT_EQ(round_trip("f'{'\\\\'}'", 12, Mode::Eval, 11), "f'{'\\\\'}'");
  // In a 3.12 format spec `{{` opens a field after an empty Constant, anywhere.
  EXPECT_EQ(expr_round_trip("f'{x:{w}{{y}}}'", 12), "f'{x:{w}{{y}}}'");
}

TEST(UnparseTest, FStringFieldsKeepCharactersRaw) {
  // In 3.11 a field cannot hold a backslash, so characters that repr() escapes
  // (VT, FF, DEL, C1 controls, U+2028...) are written as themselves; at the top
  // level of the f-string, escapes are fine.
  expect_exprs({
      {"f\"{'a\vb'}\"", "f\"{'a\vb'}\""},
      {"f'{\"\f\x7f\xc2\x85\xe2\x80\xa8\x01\"}'", "f\"{'\f\x7f\xc2\x85\xe2\x80\xa8\x01'}\""},
      {"f\"{b'\v\x7f'}\"", "f\"{b'\v\x7f'}\""},
      {"f\"{f'{x}\v'}\v\"", "f\"{f'{x}\v'}\\x0b\""},
      {"f'{x:\v>{f\"\v\"}}'", "f\"{x:\\x0b>{f'\v'}}\""},
      {"f'''{f\"\"\"{x}\n\"\"\"}'''", "f'''{f\"\"\"{x}\n\"\"\"}'''"},
      {"f'''{u\"\v\"}'''", "f\"{u'\v'}\""},
  });
  // The fuzzer's input: a nested f-string whose literal text holds a raw VT.
  std::string nested = "x = f\"{f'{~a}" + std::string(3, '`') + "\v" + "`'}\"\n";
  EXPECT_EQ(round_trip(nested), nested);
  // For 3.12 output the PEP 701 form with escapes reads better.
  EXPECT_EQ(round_trip("f\"{'a\vb'}\"", 12, Mode::Eval), "f'{'a\\x0bb'}'");
}

TEST(UnparseTest, FStringQuotesFoundBySearch) {
  // The fields printed first would take """ for the nested f-string (its text
  // holds a newline) and " for the string holding ''', leaving no quote for the
  // outer f-string; fixing """ first makes the nested one take '''.
  const char* source = "f\"\"\"{f'''a\nb'''}{\"'''\"}\"\"\"";
  EXPECT_EQ(expr_round_trip(source), source);
  // Four levels, each excluding its quote from those inside.
  const char* deep = "f'''{f\"\"\"{f'{\"a\" + f\"{x}\"}'}\"\"\"}'''";
  EXPECT_EQ(expr_round_trip(deep), "f'''{f\"\"\"{f\"{'a' + f'{x}'}\"}\"\"\"}'''");
}

TEST(UnparseTest, SimpleStatements) {
  const char* source =
      "x = 1\n"
      "a = b = yield c\n"
      "a, b = c, d = e\n"
      "[a, *b] = c\n"
      "x, = y\n"
      "a += 1, 2\n"
      "a //= yield\n"
      "a: int\n"
      "(a): int = 1\n"
      "a.b: int = 1, 2\n"
      "del a, (b, c), [d], e[0]\n"
      "assert x, (y, z)\n"
      "assert (x, y)\n"
      "raise\n"
      "raise X from None\n"
      "import a.b.c as d, e\n"
      "from . import x\n"
      "from ..a import (b as c, d)\n"
      "from .a import *\n"
      "global a, b\n"
      "pass\n"
      "(x := 1)\n"
      "print(*a, sep='')\n";
  const char* expected =
      "x = 1\n"
      "a = b = yield c\n"
      "a, b = c, d = e\n"
      "[a, *b] = c\n"
      "(x,) = y\n"
      "a += 1, 2\n"
      "a //= yield\n"
      "a: int\n"
      "(a): int = 1\n"
      "a.b: int = 1, 2\n"
      "del a, (b, c), [d], e[0]\n"
      "assert x, (y, z)\n"
      "assert (x, y)\n"
      "raise\n"
      "raise X from None\n"
      "import a.b.c as d, e\n"
      "from . import x\n"
      "from ..a import b as c, d\n"
      "from .a import *\n"
      "global a, b\n"
      "pass\n"
      "(x := 1)\n"
      "print(*a, sep='')\n";
  EXPECT_EQ(round_trip(source), expected);
}

TEST(UnparseTest, CompoundStatements) {
  const char* source =
      "def f():\n"
      "    nonlocal_ = 1\n"
      "    for x, y in z:\n"
      "        break\n"
      "    else:\n"
      "        continue\n"
      "    for x in *a, b: pass\n"
      "    while (x := f()): pass\n"
      "    else: pass\n"
      "    return (yield)\n"
      "async def g():\n"
      "    async for x in y: pass\n"
      "    async with a as b, c as (d, e): pass\n"
      "    with (a, b): pass\n"
      "    with ((a, b)): pass\n"
      "    with ((a,)): pass\n"
      "    with (a, b) as c: pass\n"
      "    return a, *b\n"
      "if a:\n"
      "    pass\n"
      "elif b:\n"
      "    pass\n"
      "else:\n"
      "    if c:\n"
      "        pass\n"
      "    x = 1\n"
      "try:\n"
      "    pass\n"
      "except (A, B) as e:\n"
      "    pass\n"
      "except:\n"
      "    pass\n"
      "else:\n"
      "    pass\n"
      "finally:\n"
      "    pass\n"
      "try:\n"
      "    pass\n"
      "except* E:\n"
      "    pass\n";
  const char* expected =
      "def f():\n"
      "    nonlocal_ = 1\n"
      "    for x, y in z:\n"
      "        break\n"
      "    else:\n"
      "        continue\n"
      "    for x in *a, b:\n"
      "        pass\n"
      "    while (x := f()):\n"
      "        pass\n"
      "    else:\n"
      "        pass\n"
      "    return (yield)\n"
      "\n"
      "\n"
      "async def g():\n"
      "    async for x in y:\n"
      "        pass\n"
      "    async with a as b, c as (d, e):\n"
      "        pass\n"
      "    with a, b:\n"
      "        pass\n"
      "    with ((a, b)):\n"
      "        pass\n"
      "    with ((a,)):\n"
      "        pass\n"
      "    with (a, b) as c:\n"
      "        pass\n"
      "    return a, *b\n"
      "\n"
      "\n"
      "if a:\n"
      "    pass\n"
      "elif b:\n"
      "    pass\n"
      "else:\n"
      "    if c:\n"
      "        pass\n"
      "    x = 1\n"
      "try:\n"
      "    pass\n"
      "except (A, B) as e:\n"
      "    pass\n"
      "except:\n"
      "    pass\n"
      "else:\n"
      "    pass\n"
      "finally:\n"
      "    pass\n"
      "try:\n"
      "    pass\n"
      "except* E:\n"
      "    pass\n";
  EXPECT_EQ(round_trip(source), expected);
}

TEST(UnparseTest, ElifChainAndElseIf) {
  EXPECT_EQ(
      round_trip("if a:\n    pass\nelse:\n    if b:\n        pass\n    else:\n        pass\n"),
      "if a:\n    pass\nelif b:\n    pass\nelse:\n    pass\n");
}

TEST(UnparseTest, DefsAndClasses) {
  const char* source =
      "@a.b(c)\n"
      "@(x := y)\n"
      "def f(a, b=1, /, c=2, *args: int, d, e: str = 'x', **kw: bool) -> None: pass\n"
      "def g(*args: *Ts): pass\n"
      "def h(a, /): pass\n"
      "class A: pass\n"
      "class B(A, metaclass=M, **kw):\n"
      "    x = 1\n"
      "    def m(self): pass\n"
      "    def n(self): pass\n"
      "    y = 2\n";
  const char* expected =
      "@a.b(c)\n"
      "@(x := y)\n"
      "def f(a, b=1, /, c=2, *args: int, d, e: str = 'x', **kw: bool) -> None:\n"
      "    pass\n"
      "\n"
      "\n"
      "def g(*args: *Ts):\n"
      "    pass\n"
      "\n"
      "\n"
      "def h(a, /):\n"
      "    pass\n"
      "\n"
      "\n"
      "class A:\n"
      "    pass\n"
      "\n"
      "\n"
      "class B(A, metaclass=M, **kw):\n"
      "    x = 1\n"
      "\n"
      "    def m(self):\n"
      "        pass\n"
      "\n"
      "    def n(self):\n"
      "        pass\n"
      "\n"
      "    y = 2\n";
  EXPECT_EQ(round_trip(source), expected);
}

TEST(UnparseTest, TypeParametersAndAliases) {
  const char* source =
      "def f[T: int, *Ts, **P](a: T) -> T: pass\n"
      "class C[T](Base): pass\n"
      "type X = int\n"
      "type Y[T] = list[T]\n";
  const char* expected =
      "def f[T: int, *Ts, **P](a: T) -> T:\n"
      "    pass\n"
      "\n"
      "\n"
      "class C[T](Base):\n"
      "    pass\n"
      "\n"
      "\n"
      "type X = int\n"
      "type Y[T] = list[T]\n";
  EXPECT_EQ(round_trip(source, 12), expected);
}

TEST(UnparseTest, Patterns) {
  const char* source =
      "match x:\n"
      "    case 1 | 2 | 3: pass\n"
      "    case (1 | 2) | 3: pass\n"
      "    case [a, b, *rest]: pass\n"
      "    case (a,): pass\n"
      "    case (): pass\n"
      "    case {'a': 1, **rest}: pass\n"
      "    case {}: pass\n"
      "    case Point(1, y=2): pass\n"
      "    case Point(): pass\n"
      "    case a.b.c: pass\n"
      "    case -1 | -1.5 | 1 + 2j | 1 - 2j | 'a' 'b' | b'x': pass\n"
      "    case None | True | False: pass\n"
      "    case [a as b, (c | d) as e, *_]: pass\n"
      "    case {1: (a | b) as c}: pass\n"
      "    case C(x=(a as b)): pass\n"
      "    case (a as b) as c: pass\n"
      "    case _ if (y := 1): pass\n"
      "    case _: pass\n"
      "match a, *b:\n"
      "    case x: pass\n";
  const char* expected =
      "match x:\n"
      "    case 1 | 2 | 3:\n"
      "        pass\n"
      "    case (1 | 2) | 3:\n"
      "        pass\n"
      "    case [a, b, *rest]:\n"
      "        pass\n"
      "    case [a]:\n"
      "        pass\n"
      "    case []:\n"
      "        pass\n"
      "    case {'a': 1, **rest}:\n"
      "        pass\n"
      "    case {}:\n"
      "        pass\n"
      "    case Point(1, y=2):\n"
      "        pass\n"
      "    case Point():\n"
      "        pass\n"
      "    case a.b.c:\n"
      "        pass\n"
      "    case -1 | -1.5 | 1 + 2j | 1 - 2j | 'ab' | b'x':\n"
      "        pass\n"
      "    case None | True | False:\n"
      "        pass\n"
      "    case [a as b, c | d as e, *_]:\n"
      "        pass\n"
      "    case {1: a | b as c}:\n"
      "        pass\n"
      "    case C(x=a as b):\n"
      "        pass\n"
      "    case (a as b) as c:\n"
      "        pass\n"
      "    case _ if (y := 1):\n"
      "        pass\n"
      "    case _:\n"
      "        pass\n"
      "match a, *b:\n"
      "    case x:\n"
      "        pass\n";
  EXPECT_EQ(round_trip(source), expected);
}

TEST(UnparseTest, SoftKeywordsAsNames) {
  const char* source = "match = 1\nmatch[x] = 1\nmatch(x)\ncase = type = _ = 1\n";
  EXPECT_EQ(round_trip(source), source);
}

TEST(UnparseTest, Docstrings) {
  const char* source =
      "'''Module.\n\nMore.'''\n"
      "def f():\n"
      "    \"Has \\\"\\\"\\\" and ''' both.\"\n"
      "def g():\n"
      "    '''ends with a quote\"'''\n"
      "def h():\n"
      "    'tab\\there \\\\ \\x00'\n"
      "    'not a docstring'\n"
      "class C:\n"
      "    u'''unicode'''\n";
  const char* expected =
      "\"\"\"Module.\n\nMore.\"\"\"\n"
      "\n"
      "\n"
      "def f():\n"
      "    \"\"\"Has \\\"\\\"\\\" and ''' both.\"\"\"\n"
      "\n"
      "\n"
      "def g():\n"
      "    '''ends with a quote\"'''\n"
      "\n"
      "\n"
      "def h():\n"
      "    \"\"\"tab\there \\\\ \\x00\"\"\"\n"
      "    'not a docstring'\n"
      "\n"
      "\n"
      "class C:\n"
      "    u\"\"\"unicode\"\"\"\n";
  EXPECT_EQ(round_trip(source), expected);
  EXPECT_EQ(round_trip("def f():\n    ''' \"\" '''\n"), "def f():\n    \"\"\" \"\" \"\"\"\n");
  EXPECT_EQ(round_trip("def f():\n    '''a\"\"'''\n"), "def f():\n    '''a\"\"'''\n");
}

TEST(UnparseTest, CommentsOnStatements) {
  const char* source =
      "# header\n"
      "\n"
      "import os  # why os\n"
      "x = [\n"
      "    1,  # one\n"
      "    # own line inside\n"
      "    2,  # two\n"
      "]\n"
      "a = 1; b = 2  # on b\n"
      "s = '''two\n"
      "lines'''  # after the string\n";
  const char* expected =
      "# header\n"
      "\n"
      "import os  # why os\n"
      "x = [1, 2]  # one\n"
      "# own line inside\n"
      "# two\n"
      "a = 1\n"
      "b = 2  # on b\n"
      "s = 'two\\nlines'  # after the string\n";
  EXPECT_EQ(round_trip(source), expected);
}

TEST(UnparseTest, CommentsInBlocksAndClauses) {
  const char* source =
      "def f(\n"
      "    a,  # arg a\n"
      "    # inside the parameters\n"
      "    b,\n"
      "):  # after the colon\n"
      "    # first in body\n"
      "    if a:  # on if\n"
      "        pass\n"
      "        # end of the if block\n"
      "    # before else\n"
      "    else:  # on else\n"
      "        # inside else\n"
      "        pass\n"
      "    try:\n"
      "        pass\n"
      "    # before except\n"
      "    except E:  # on except\n"
      "        pass\n"
      "    finally:\n"
      "        # in finally\n"
      "        pass\n"
      "    # end of f\n"
      "# before g\n"
      "@dec  # on dec\n"
      "def g(): pass  # on pass\n"
      "match x:  # on match\n"
      "    # before the case\n"
      "    case 1:  # on case\n"
      "        pass\n"
      "if a:\n"
      "    pass\n"
      "# before elif\n"
      "elif b:  # on elif\n"
      "    pass\n"
      "# at the end\n";
  const char* expected =
      "def f(a, b):  # arg a\n"
      "    # inside the parameters\n"
      "    # after the colon\n"
      "    # first in body\n"
      "    if a:  # on if\n"
      "        pass\n"
      "        # end of the if block\n"
      "    # before else\n"
      "    else:  # on else\n"
      "        # inside else\n"
      "        pass\n"
      "    try:\n"
      "        pass\n"
      "    # before except\n"
      "    except E:  # on except\n"
      "        pass\n"
      "    finally:\n"
      "        # in finally\n"
      "        pass\n"
      "    # end of f\n"
      "\n"
      "\n"
      "# before g\n"
      "@dec  # on dec\n"
      "def g():\n"
      "    pass  # on pass\n"
      "\n"
      "\n"
      "match x:  # on match\n"
      "    # before the case\n"
      "    case 1:  # on case\n"
      "        pass\n"
      "if a:\n"
      "    pass\n"
      "# before elif\n"
      "elif b:  # on elif\n"
      "    pass\n"
      "# at the end\n";
  EXPECT_EQ(round_trip(source), expected);
}

TEST(UnparseTest, CommentOnElseKeepsIt) {
  // A comment on `else:` would have no line if the `if` inside became `elif`.
  EXPECT_EQ(round_trip("if a:\n    pass\nelse:  # keep\n    if b:\n        pass\n"),
            "if a:\n    pass\nelse:  # keep\n    if b:\n        pass\n");
}

TEST(UnparseTest, BlankLinesFromTheSource) {
  const char* source =
      "import a\n"
      "\n"
      "\n"
      "\n"
      "x = 1\n"
      "def f():\n"
      "    y = 1\n"
      "\n"
      "\n"
      "    # about z\n"
      "\n"
      "    z = 2\n";
  const char* expected =
      "import a\n"
      "\n"
      "\n"
      "x = 1\n"
      "\n"
      "\n"
      "def f():\n"
      "    y = 1\n"
      "\n"
      "    # about z\n"
      "\n"
      "    z = 2\n";
  EXPECT_EQ(round_trip(source), expected);
}

TEST(UnparseTest, CodingCookieStaysTrue) {
  // The output is UTF-8, so a Latin-1 cookie must not be the one Python reads.
  std::string source = "# -*- coding: latin-1 -*-\nx = '\xe9'\n";
  EXPECT_EQ(round_trip(source, 11, Mode::Exec, 0, 1),
            "# -*- coding: utf-8 -*-\n# -*- coding: latin-1 -*-\nx = '\xc3\xa9'\n");
  // ASCII reads the same in Latin-1: nothing to do.
  EXPECT_EQ(round_trip("# coding: latin-1\nx = 'e'\n"), "# coding: latin-1\nx = 'e'\n");
  // Not a cookie on line 3 of the source, but it would be on line 1 of the output.
  EXPECT_EQ(round_trip("\n\n# vim: fileencoding=nonesuch\nx = 1\n", 11, Mode::Exec, 0, 1),
            "# -*- coding: utf-8 -*-\n# vim: fileencoding=nonesuch\nx = 1\n");
}

TEST(UnparseTest, DeepTrees) {
  // The parser accepts trees up to kMaxTreeDepth deep; the printer must too.
  int n = kMaxTreeDepth - 10;
  EXPECT_EQ(round_trip("x = " + std::string(n, '-') + "1\n").size(), n + 6u);
  std::string sum = "x = a";
  for (int i = 0; i < n; ++i) sum += " + a";
  EXPECT_EQ(round_trip(sum + "\n"), sum + "\n");
  std::string chain = "if a:\n    pass\n";
  for (int i = 0; i < n; ++i) chain += "elif b:\n    pass\n";
  EXPECT_EQ(round_trip(chain), chain);
  std::string calls = "x = f";
  for (int i = 0; i < n / 2; ++i) calls += "()";
  EXPECT_EQ(round_trip(calls + "\n"), calls + "\n");
}

TEST(UnparseTest, OtherRoots) {
  auto stmt = parse("for x in y:\n    pass\n", 11, Mode::Exec);
  const auto* module = static_cast<const Module*>(stmt->tree);
  EXPECT_EQ(unparse(module->body[0]), "for x in y:\n    pass\n");
  auto* loop = static_cast<const For*>(module->body[0]);
  EXPECT_EQ(unparse(loop->target), "x");

  auto func = parse("(int, str) -> bool", 11, Mode::FuncType);
  EXPECT_EQ(unparse(func->tree), "(int, str) -> bool");

  auto def = parse("def f(a, *, b=1): pass\n", 11, Mode::Exec);
  auto* f = static_cast<const FunctionDef*>(static_cast<const Module*>(def->tree)->body[0]);
  EXPECT_EQ(unparse(f->args), "a, *, b=1");

  auto m = parse("match x:\n    case [a, *_] if a: pass\n", 11, Mode::Exec);
  auto* match = static_cast<const Match*>(static_cast<const Module*>(m->tree)->body[0]);
  EXPECT_EQ(unparse(match->cases[0]->pattern), "[a, *_]");
  EXPECT_EQ(unparse(match->cases[0]), "case [a, *_] if a:\n    pass\n");

  auto single = parse("x = 1\n", 11, Mode::Single);
  EXPECT_EQ(unparse(single->tree), "x = 1\n");
  EXPECT_EQ(unparse(nullptr), "");
}

TEST(UnparseTest, TreesWithoutPositions) {
  // A rewriter's tree: no positions, empty bodies; comments cannot be placed and
  // go to the end rather than being lost.
  Arena arena;
  auto* fn = arena.make<FunctionDef>();
  static_cast<Node*>(fn)->kind = NodeKind::FunctionDef;
  fn->name = "build";
  fn->args = arena.make<Arguments>();
  static_cast<Node*>(fn->args)->kind = NodeKind::Arguments;
  auto* pass = arena.make<Pass>();
  static_cast<Node*>(pass)->kind = NodeKind::Pass;
  StmtNode* items[] = {pass, fn, pass};
  auto* module = arena.make<Module>();
  static_cast<Node*>(module)->kind = NodeKind::Module;
  module->body = Seq<StmtNode*>(arena.copy(std::span<StmtNode* const>(items)));
  std::vector<Comment> comments = {{"# lost?", 3, 0, true}};
  UnparseOptions options;
  options.comments = &comments;
  EXPECT_EQ(unparse(module, options), "pass\n\n\ndef build():\n    pass\n\n\npass\n# lost?\n");
}

TEST(UnparseTest, StatementsInsertedWithoutPositions) {
  // A rewriter inserted a statement between parsed ones: comments stay with theirs.
  auto parsed = parse("x = 1  # one\n# before y\ny = 2  # two\n", 11, Mode::Exec);
  auto* module = static_cast<Module*>(parsed->tree);
  auto* pass = parsed->arena.make<Pass>();
  static_cast<Node*>(pass)->kind = NodeKind::Pass;
  StmtNode* items[] = {module->body[0], pass, module->body[1]};
  module->body = Seq<StmtNode*>(parsed->arena.copy(std::span<StmtNode* const>(items)));
  UnparseOptions options;
  options.comments = &parsed->comments;
  EXPECT_EQ(unparse(module, options), "x = 1  # one\npass\n# before y\ny = 2  # two\n");
}

}  // namespace
}  // namespace t2k::syntax
