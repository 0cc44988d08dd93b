// The tokenizer: token kinds and CPython positions for the tricky parts of the
// lexical grammar (indentation, joining, continuation, prefixes, numbers, errors).
#include "torch2keras/syntax/lexer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using t2k::syntax::Comment;
using t2k::syntax::Lexer;
using t2k::syntax::Token;
using t2k::syntax::token_name;

// "KIND text@line:col-line:col" for each token, space-separated.
std::string lex(const std::string& text, std::vector<Comment>* comments = nullptr) {
  Lexer lexer(text, Lexer::Options{});
  std::vector<Token> tokens;
  lexer.tokenize(tokens, comments);
  std::string out;
  for (const Token& t : tokens) {
    if (!out.empty()) out += ' ';
    out += token_name(t.kind);
    if (!t.text.empty() && t.kind != t2k::syntax::TokenKind::NEWLINE) {
      out += '(';
      out += t.text;
      out += ')';
    }
  }
  if (lexer.error()) out += " | " + lexer.error()->message;
  return out;
}

TEST(Lexer, IndentAndDedent) {
  EXPECT_EQ(lex("if a:\n    b\nc\n"),
            "if(if) NAME(a) COLON(:) NEWLINE INDENT NAME(b) NEWLINE DEDENT NAME(c) NEWLINE "
            "ENDMARKER");
}

TEST(Lexer, BlankAndCommentLinesDoNotIndent) {
  std::vector<Comment> comments;
  static const std::string text = "a\n\n    # c\nb  # d\n";  // comments view into it
  EXPECT_EQ(lex(text, &comments),
            "NAME(a) NEWLINE NAME(b) NEWLINE ENDMARKER");
  ASSERT_EQ(comments.size(), 2u);
  EXPECT_EQ(comments[0].text, "# c");
  EXPECT_TRUE(comments[0].own_line);
  EXPECT_EQ(comments[0].lineno, 3);
  EXPECT_EQ(comments[0].col_offset, 4);
  EXPECT_EQ(comments[1].text, "# d");
  EXPECT_FALSE(comments[1].own_line);
}

TEST(Lexer, BracketsJoinLines) {
  EXPECT_EQ(lex("x = (1,\n  2)\n"),
            "NAME(x) EQUAL(=) LPAR(() NUMBER(1) COMMA(,) NUMBER(2) RPAR()) NEWLINE ENDMARKER");
}

TEST(Lexer, BackslashContinuation) {
  EXPECT_EQ(lex("x = 1 + \\\n  2\n"),
            "NAME(x) EQUAL(=) NUMBER(1) PLUS(+) NUMBER(2) NEWLINE ENDMARKER");
  EXPECT_EQ(lex("x = 1 \\ 2\n"),
            "NAME(x) EQUAL(=) NUMBER(1) ERRORTOKEN( ) | unexpected character after line "
            "continuation character");
}

TEST(Lexer, StringPrefixes) {
  EXPECT_EQ(lex("rb'a' Rb'b' bR'c' f'd' Fr'e' u'f' U\"g\" br\"\"\"h\"\"\"\n"),
            "STRING(rb'a') STRING(Rb'b') STRING(bR'c') STRING(f'd') STRING(Fr'e') STRING(u'f') "
            "STRING(U\"g\") STRING(br\"\"\"h\"\"\") NEWLINE ENDMARKER");
  // `ub` and `ur` are not prefixes: a name followed by a string.
  EXPECT_EQ(lex("ur'x'\n"), "NAME(ur) STRING('x') NEWLINE ENDMARKER");
}

TEST(Lexer, Numbers) {
  EXPECT_EQ(lex("0x_1f 0o17 0b1 1_000 1.5e-3 .5 5. 3j 00 1if\n"),
            "NUMBER(0x_1f) NUMBER(0o17) NUMBER(0b1) NUMBER(1_000) NUMBER(1.5e-3) NUMBER(.5) "
            "NUMBER(5.) NUMBER(3j) NUMBER(00) NUMBER(1) if(if) NEWLINE ENDMARKER");
  // CPython points at the leading zeros only.
  EXPECT_EQ(lex("07\n"), "ERRORTOKEN(0) | leading zeros in decimal integer literals are not "
                         "permitted; use an 0o prefix for octal integers");
  EXPECT_EQ(lex("1abc\n"), "ERRORTOKEN(1a) | invalid decimal literal");
  EXPECT_EQ(lex("0b12\n"), "ERRORTOKEN(0b12) | invalid digit '2' in binary literal");
}

TEST(Lexer, Operators) {
  EXPECT_EQ(lex("a **= b //= c >>= d <<= e -> f := g ... h @= i != j <> k\n"),
            "NAME(a) DOUBLESTAREQUAL(**=) NAME(b) DOUBLESLASHEQUAL(//=) NAME(c) "
            "RIGHTSHIFTEQUAL(>>=) NAME(d) LEFTSHIFTEQUAL(<<=) NAME(e) RARROW(->) NAME(f) "
            "COLONEQUAL(:=) NAME(g) ELLIPSIS(...) NAME(h) ATEQUAL(@=) NAME(i) NOTEQUAL(!=) "
            "NAME(j) NOTEQUAL(<>) NAME(k) NEWLINE ENDMARKER");
}

TEST(Lexer, Positions) {
  Lexer lexer("if x:\n  'a\\\nb'\n", Lexer::Options{});
  std::vector<Token> tokens;
  lexer.tokenize(tokens, nullptr);
  // The string spans two lines; CPython positions it from its first line.
  const Token& s = tokens[5];
  EXPECT_EQ(s.kind, t2k::syntax::TokenKind::STRING);
  EXPECT_EQ(s.lineno, 2);
  EXPECT_EQ(s.col_offset, 2);
  EXPECT_EQ(s.end_lineno, 3);
  EXPECT_EQ(s.end_col_offset, 2);
}

TEST(Lexer, ColumnShiftForFStringFields) {
  // The 3.11 f-string sub-lexer: columns on the first line are shifted.
  Lexer::Options options;
  options.first_lineno = 7;
  options.first_line_col_shift = 10;
  Lexer lexer("(a +\n b)\n", options);
  std::vector<Token> tokens;
  lexer.tokenize(tokens, nullptr);
  EXPECT_EQ(tokens[1].lineno, 7);
  EXPECT_EQ(tokens[1].col_offset, 11);
  EXPECT_EQ(tokens[3].lineno, 8);
  EXPECT_EQ(tokens[3].col_offset, 1);
}

TEST(Lexer, Errors) {
  EXPECT_EQ(lex("if a:\n\tb\n        c\n"),
            "if(if) NAME(a) COLON(:) NEWLINE INDENT NAME(b) NEWLINE ERRORTOKEN | inconsistent use "
            "of tabs and spaces in indentation");
  EXPECT_EQ(lex("x = (1]\n"),
            "NAME(x) EQUAL(=) LPAR(() NUMBER(1) ERRORTOKEN(]) | closing parenthesis ']' does not "
            "match opening parenthesis '('");
  EXPECT_EQ(lex("x = 'abc\n"),
            "NAME(x) EQUAL(=) ERRORTOKEN(') | unterminated string literal (detected at line 1)");
  EXPECT_EQ(lex("(\n"), "LPAR(() ERRORTOKEN | '(' was never closed");
  std::string deep(201, '(');
  EXPECT_NE(lex(deep + "\n").find("too many nested parentheses"), std::string::npos);
}

}  // namespace
