// The parser's entry points, node helpers, error reporting and source decoding.
#include "torch2keras/syntax/parser.h"

#include <cstring>

#include "torch2keras/base/codecs.h"
#include "torch2keras/base/unicode.h"
#include "torch2keras/syntax/lexer.h"
#include "torch2keras/syntax/parser_impl.h"

namespace t2k::syntax {

using TK = TokenKind;
using namespace ast;

namespace {
// Deeper recursion than this in the parser is rejected; it is above
// kMaxTreeDepth so that the tree-depth check (CPython's rule) decides.
constexpr int kMaxParseDepth = kMaxTreeDepth + 100;
// Guarded rule entries allowed per token (see Parser::enter); measured use on the
// conformance corpus is far below this.
constexpr std::size_t kWorkPerToken = 64;
constexpr std::size_t kWorkBase = 100000;
}  // namespace

Parser::Parser(const std::vector<Token>& tokens, Arena& arena, const ParseOptions& options,
               const std::optional<SyntaxError>& lexer_error)
    : tokens_(tokens), arena_(arena), options_(options), lexer_error_(lexer_error) {}

Loc Parser::span(std::size_t start) {
  const Token& first = tokens_[start];
  std::size_t i = pos_;
  while (i > start) {
    --i;
    TokenKind k = tokens_[i].kind;
    if (k != TK::NEWLINE && k != TK::INDENT && k != TK::DEDENT && k != TK::ENDMARKER) break;
  }
  const Token& last = tokens_[i];
  return {first.lineno, first.col_offset, last.end_lineno, last.end_col_offset};
}

Identifier Parser::identifier(const Token& name) {
  std::string_view text = name.text;
  bool ascii = true;
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return text;
  // CPython normalizes non-ASCII identifiers to NFKC (PEP 3131).
  std::u32string chars;
  for (std::size_t i = 0; i < text.size();) chars.push_back(unicode::decode_wtf8(text, i));
  std::string normalized;
  for (char32_t c : unicode::nfkc(chars)) unicode::append_utf8(normalized, c);
  return arena_.copy_string(normalized);
}

Name* Parser::name_expr(std::size_t index, ExprContext ctx) {
  const Token& t = at(index);
  auto* n = make_at<Name>(token_loc(t));
  n->id = identifier(t);
  n->ctx = ctx;
  return n;
}

void Parser::raise(std::string message, const Loc& loc, SyntaxError::Kind kind) {
  SyntaxError e;
  e.kind = kind;
  e.message = std::move(message);
  e.lineno = loc.lineno;
  e.col_offset = loc.col_offset;
  e.end_lineno = loc.end_lineno;
  e.end_col_offset = loc.end_col_offset;
  error_ = std::move(e);
  throw ParseAbort{};
}

void Parser::raise_at_token(std::string message, const Token& t, SyntaxError::Kind kind) {
  raise(std::move(message), token_loc(t), kind);
}

void Parser::enter() {
  if (++depth_ > kMaxParseDepth) {
    --depth_;
    raise("maximum recursion depth exceeded during ast construction", token_loc(cur()),
          SyntaxError::Kind::RecursionError);
  }
  // A safety net against backtracking blow-ups: a linear parse enters these
  // rules a few times per token. Should a rule ever re-parse nested input, the
  // parse stops with an error instead of hanging.
  if (++work_ > kWorkPerToken * tokens_.size() + kWorkBase) {
    --depth_;
    raise("source too complex to parse (torch2keras parser work limit exceeded)",
          token_loc(cur()));
  }
}

// The error for a parse that failed without a specific message: CPython's
// _PyPegen_set_syntax_error, using the furthest token examined.
SyntaxError Parser::generic_error() {
  const Token& t = tokens_[max_pos_ < tokens_.size() ? max_pos_ : tokens_.size() - 1];
  bool indentation = t.kind == TK::INDENT || t.kind == TK::DEDENT;
  // A later tokenizer error never replaces "unexpected indent" in CPython.
  if (lexer_error_ && !indentation) {
    // An unclosed bracket at the end of input loses to a parser error on or before
    // its line, unless the parser got to the end (CPython's _PyPegen_set_syntax_error
    // and _PyPegen_tokenize_full_source_to_check_for_errors).
    bool unclosed = lexer_error_->message.ends_with("was never closed");
    if (!unclosed || t.kind == TK::ERRORTOKEN || t.lineno > lexer_error_->lineno) {
      return *lexer_error_;
    }
  }
  SyntaxError e;
  e.lineno = t.lineno;
  e.col_offset = t.col_offset;
  e.end_lineno = t.end_lineno;
  e.end_col_offset = t.end_col_offset;
  if (t.kind == TK::INDENT) {
    e.kind = SyntaxError::Kind::IndentationError;
    e.message = "unexpected indent";
    // CPython points at the last character of the indentation.
    if (e.col_offset > 0) --e.col_offset;
  } else if (t.kind == TK::DEDENT) {
    e.kind = SyntaxError::Kind::IndentationError;
    e.message = "unexpected unindent";
  } else if (!hint_.empty() && hint_pos_ >= max_pos_) {
    e.message = hint_;
    if (hint_loc_) {
      e.lineno = hint_loc_->lineno;
      e.col_offset = hint_loc_->col_offset;
      e.end_lineno = hint_loc_->end_lineno;
      e.end_col_offset = hint_loc_->end_col_offset;
    }
  } else {
    e.message = "invalid syntax";
  }
  return e;
}

ModNode* Parser::parse(std::optional<SyntaxError>& error) {
  try {
    ModNode* m = nullptr;
    switch (options_.mode) {
      case Mode::Exec: m = file(); break;
      case Mode::Eval: m = eval(); break;
      case Mode::Single: m = interactive(); break;
      case Mode::FuncType: m = func_type(); break;
    }
    if (m != nullptr && !lexer_error_) return m;
    error = generic_error();
  } catch (const ParseAbort&) {
    // CPython re-tokenizes the rest of the source after a parser error, so a
    // tokenizer error anywhere takes precedence.
    bool unclosed = lexer_error_ && lexer_error_->message.ends_with("was never closed");
    error = lexer_error_ && !(unclosed && error_->lineno <= lexer_error_->lineno) ? *lexer_error_
                                                                                   : *error_;
  }
  return nullptr;
}

// CPython's _PyPegen_get_expr_name: how error messages name an expression.
const char* expr_name(const ExprNode* e) {
  switch (e->kind) {
    case NodeKind::Attribute: return "attribute";
    case NodeKind::Subscript: return "subscript";
    case NodeKind::Starred: return "starred";
    case NodeKind::Name: return "name";
    case NodeKind::List: return "list";
    case NodeKind::Tuple: return "tuple";
    case NodeKind::Lambda: return "lambda";
    case NodeKind::Call: return "function call";
    case NodeKind::BoolOp:
    case NodeKind::BinOp:
    case NodeKind::UnaryOp: return "expression";
    case NodeKind::GeneratorExp: return "generator expression";
    case NodeKind::Yield:
    case NodeKind::YieldFrom: return "yield expression";
    case NodeKind::Await: return "await expression";
    case NodeKind::ListComp: return "list comprehension";
    case NodeKind::SetComp: return "set comprehension";
    case NodeKind::DictComp: return "dict comprehension";
    case NodeKind::Dict: return "dict literal";
    case NodeKind::Set: return "set display";
    case NodeKind::JoinedStr:
    case NodeKind::FormattedValue: return "f-string expression";
    case NodeKind::Compare: return "comparison";
    case NodeKind::IfExp: return "conditional expression";
    case NodeKind::NamedExpr: return "named expression";
    case NodeKind::Constant:
      switch (static_cast<const Constant*>(e)->value.kind) {
        case ConstantValue::Kind::None: return "None";
        case ConstantValue::Kind::True: return "True";
        case ConstantValue::Kind::False: return "False";
        case ConstantValue::Kind::Ellipsis: return "ellipsis";
        default: return "literal";
      }
    default: return "expression";
  }
}

namespace {
// The first part of `e` that cannot be assigned to (CPython's
// _PyPegen_get_invalid_target for star targets).
const ExprNode* invalid_target(const ExprNode* e) {
  switch (e->kind) {
    case NodeKind::Name:
    case NodeKind::Attribute:
    case NodeKind::Subscript: return nullptr;
    case NodeKind::Starred: return invalid_target(static_cast<const Starred*>(e)->value);
    case NodeKind::List:
      for (const ExprNode* elt : static_cast<const List*>(e)->elts)
        if (const ExprNode* bad = invalid_target(elt)) return bad;
      return nullptr;
    case NodeKind::Tuple:
      for (const ExprNode* elt : static_cast<const Tuple*>(e)->elts)
        if (const ExprNode* bad = invalid_target(elt)) return bad;
      return nullptr;
    case NodeKind::Compare:
      // `a, b in c = d` reads as a for-loop target typo; CPython blames the left side.
      return e;
    default: return e;
  }
}
}  // namespace

void Parser::hint_invalid_target(E* target, const char* fmt) {
  const ExprNode* bad = invalid_target(target);
  if (bad == nullptr) bad = target;
  std::string message = fmt;
  std::size_t at = message.find("%s");
  if (at != std::string::npos) message.replace(at, 2, expr_name(bad));
  hint(message, bad->loc);
}

ExprNode* Parser::parse_fstring_field(std::optional<SyntaxError>& error) {
  try {
    if (ExprNode* e = star_expressions()) return e;
    error = generic_error();
  } catch (const ParseAbort&) {
    error = lexer_error_ ? *lexer_error_ : *error_;
  }
  return nullptr;
}

namespace {

// The depth of the deepest node, counting as CPython's ast2obj does (every node,
// including products such as `arguments`, adds one level; lists do not).
int tree_depth(Node* root) {
  struct Item {
    Node* node;
    int depth;
  };
  std::vector<Item> stack{{root, 1}};
  int deepest = 0;
  while (!stack.empty()) {
    Item item = stack.back();
    stack.pop_back();
    if (item.depth > deepest) deepest = item.depth;
    if (deepest > kMaxTreeDepth) return deepest;
    for_each_child(item.node, [&](Node* child) { stack.push_back({child, item.depth + 1}); });
  }
  return deepest;
}

bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// CPython's get_coding_spec on one line (without its '\n'). Returns true when a
// spec was found; `code_line` tells whether the line holds anything but a
// comment (which stops the search on line 2).
bool coding_spec(std::string_view line, std::string& spec, bool& code_line) {
  code_line = false;
  std::size_t size = line.size();
  std::size_t i = 0;
  for (; i + 6 < size; ++i) {
    if (line[i] == '#') break;
    if (line[i] != ' ' && line[i] != '\t' && line[i] != '\014') {
      i = size;  // not a comment line: no spec
      break;
    }
  }
  for (; i + 6 < size; ++i) {
    if (line.compare(i, 6, "coding") != 0) continue;
    std::size_t t = i + 6;
    if (line[t] != ':' && line[t] != '=') continue;
    do {
      ++t;
    } while (t < size && (line[t] == ' ' || line[t] == '\t'));
    std::size_t begin = t;
    while (t < size && (is_alnum(line[t]) || line[t] == '-' || line[t] == '_' || line[t] == '.'))
      ++t;
    if (t > begin) {
      spec = std::string(codecs::tokenizer_normal_name(line.substr(begin, t - begin)));
      return true;
    }
  }
  // check_coding_spec: a line with anything but whitespace before '#' is code.
  for (char c : line) {
    if (c == '#' || c == '\n' || c == '\r') break;
    if (c != ' ' && c != '\t' && c != '\014') {
      code_line = true;
      break;
    }
  }
  return false;
}

SyntaxError encoding_error(std::string message) {
  SyntaxError e;
  e.message = std::move(message);
  e.lineno = 0;
  e.col_offset = -1;
  return e;
}

}  // namespace

std::optional<SyntaxError> decode_source(std::string_view bytes, std::string& text,
                                         bool is_text) {
  if (bytes.find('\0') != std::string_view::npos) {
    return encoding_error("source code string cannot contain null bytes");
  }
  bool bom = !is_text && bytes.size() >= 3 && bytes.compare(0, 3, "\xEF\xBB\xBF") == 0;
  if (bom) bytes.remove_prefix(3);

  // PEP 263: a coding spec on line 1, or on line 2 when line 1 is a comment.
  std::string spec;
  bool found = false;
  {
    std::size_t nl = bytes.find('\n');
    std::string_view line1 = bytes.substr(0, nl);
    bool code_line = false;
    found = !is_text && coding_spec(line1, spec, code_line);
    if (!is_text && !found && !code_line && nl != std::string_view::npos) {
      std::string_view rest = bytes.substr(nl + 1);
      found = coding_spec(rest.substr(0, rest.find('\n')), spec, code_line);
    }
  }
  std::string decoded;
  std::string_view utf8 = bytes;
  if (found) {
    if (bom && spec != "utf-8") return encoding_error("encoding problem: " + spec + " with BOM");
    if (spec != "utf-8") {
      std::optional<std::string> canonical = codecs::canonical_codec_name(spec);
      if (!canonical) return encoding_error("unknown encoding: " + spec);
      if (!codecs::is_text_encoding(*canonical)) {
        return encoding_error("'" + spec +
                              "' is not a text encoding; use codecs.decode() to handle "
                              "arbitrary codecs");
      }
      if (!codecs::is_supported(*canonical)) {
        return encoding_error("encoding problem: " + spec +
                              " (torch2keras decodes only UTF-8 and single-byte encodings)");
      }
      std::size_t bad = 0;
      if (!codecs::decode_to_utf8(*canonical, bytes, decoded, bad)) {
        char buffer[64];
        std::snprintf(buffer, sizeof buffer, "byte 0x%02x in position %zu",
                      static_cast<unsigned char>(bytes[bad]), bad);
        return encoding_error("(unicode error) '" + *canonical + "' codec can't decode " +
                              buffer);
      }
      utf8 = decoded;
    }
  }
  // Newlines: "\r\n" and "\r" become "\n"; a final "\n" is added.
  text.clear();
  text.reserve(utf8.size() + 1);
  for (std::size_t i = 0; i < utf8.size(); ++i) {
    char c = utf8[i];
    if (c == '\r') {
      text += '\n';
      if (i + 1 < utf8.size() && utf8[i + 1] == '\n') ++i;
    } else {
      text += c;
    }
  }
  if (text.empty() || text.back() != '\n') text += '\n';
  return std::nullopt;
}

ModNode* parse_text(std::string_view text, Arena& arena, const ParseOptions& options,
                    std::optional<SyntaxError>& error, std::vector<Comment>* comments) {
  Lexer::Options lex_options;
  lex_options.minor = options.minor;
  Lexer lexer(text, lex_options);
  std::vector<Token> tokens;
  tokens.reserve(text.size() / 4 + 16);
  lexer.tokenize(tokens, options.keep_comments ? comments : nullptr);
  Parser parser(tokens, arena, options, lexer.error());
  ModNode* tree = parser.parse(error);
  if (tree != nullptr && tree_depth(tree) > kMaxTreeDepth) {
    SyntaxError e;
    e.kind = SyntaxError::Kind::RecursionError;
    e.message = "maximum recursion depth exceeded during ast construction";
    e.lineno = 1;
    e.col_offset = 0;
    error = e;
    return nullptr;
  }
  return tree;
}

std::unique_ptr<ParsedSource> parse_source(std::string_view bytes, const ParseOptions& options) {
  auto result = std::make_unique<ParsedSource>();
  if (std::optional<SyntaxError> e =
          decode_source(bytes, result->text, options.source_is_text)) {
    result->error = std::move(e);
    return result;
  }
  result->tree =
      parse_text(result->text, result->arena, options, result->error, &result->comments);
  return result;
}

}  // namespace t2k::syntax
