// The parser on hostile input: every input ends in a tree or an error, never a
// crash, a hang or unbounded work. Replays tests/data/fuzz_regressions/ (inputs the
// fuzzer once broke us with) and checks the nesting limits; the inputs in its
// roundtrip/ folder must also come back from the unparser as the same tree.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "torch2keras/syntax/ast_dump.h"
#include "torch2keras/syntax/parser.h"
#include "torch2keras/syntax/unparse.h"

namespace {

namespace fs = std::filesystem;

std::unique_ptr<t2k::syntax::ParsedSource> parse(const std::string& source, int minor = 11) {
  t2k::syntax::ParseOptions options;
  options.minor = minor;
  return t2k::syntax::parse_source(source, options);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string dump(const t2k::syntax::ParsedSource& parsed, int minor) {
  if (parsed.tree == nullptr) return "ERROR";
  t2k::syntax::DumpOptions options;
  options.minor = minor;
  std::string out;
  t2k::syntax::dump_ast(out, parsed.tree, options);
  return out;
}

TEST(Robustness, FuzzRegressionsParseOrFail) {
  fs::path dir = fs::path(T2K_TEST_DATA_DIR) / "fuzz_regressions";
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().extension() == ".md") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    for (int minor : {11, 12}) {
      auto parsed = parse(buffer.str(), minor);
      EXPECT_TRUE(parsed->tree != nullptr || parsed->error.has_value()) << entry.path();
      if (parsed->tree != nullptr) {
        std::string out;
        t2k::syntax::dump_ast(out, parsed->tree, {});
      }
    }
  }
}

// What the fuzzer checks with T2K_FUZZ_ROUNDTRIP=1: each input that parses comes
// back from the unparser as the same tree in 3.11 mode. In 3.12 mode some trees
// have no spelling (see tests/fuzz/fuzz_parser.cc); the unparser must still run.
TEST(Robustness, FuzzRegressionsRoundTrip) {
  fs::path dir = fs::path(T2K_TEST_DATA_DIR) / "fuzz_regressions" / "roundtrip";
  int checked = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().extension() == ".md") continue;
    std::string source = read_file(entry.path());
    for (int minor : {11, 12}) {
      auto parsed = parse(source, minor);
      if (parsed->tree == nullptr) continue;
      t2k::syntax::UnparseOptions options;
      options.comments = &parsed->comments;
      options.minor = minor;
      std::string text = t2k::syntax::unparse(parsed->tree, options);
      if (minor != 11) continue;
      ++checked;
      auto again = parse(text, minor);
      EXPECT_EQ(dump(*parsed, minor), dump(*again, minor))
          << entry.path() << "\nunparsed:\n"
          << text << (again->error ? "\nerror: " + again->error->message : "");
    }
  }
  EXPECT_GT(checked, 0);
}

TEST(Robustness, DeepNestingIsRejectedLikeCPython) {
  // CPython builds Python objects with a depth limit of 3000 nodes.
  std::string ok = "x = " + std::string(1000, '-') + "1\n";
  EXPECT_FALSE(parse(ok)->error.has_value());
  auto deep = parse("x = " + std::string(5000, '-') + "1\n");
  ASSERT_TRUE(deep->error.has_value());
  EXPECT_EQ(deep->error->kind, t2k::syntax::SyntaxError::Kind::RecursionError);
  auto chain = parse("x = a" + [] {
    std::string s;
    for (int i = 0; i < 4000; ++i) s += ".b";
    return s;
  }() + "\n");
  ASSERT_TRUE(chain->error.has_value());
  EXPECT_EQ(chain->error->kind, t2k::syntax::SyntaxError::Kind::RecursionError);
  auto parens = parse("x = " + std::string(201, '(') + "1" + std::string(201, ')') + "\n");
  ASSERT_TRUE(parens->error.has_value());
  EXPECT_EQ(parens->error->message, "too many nested parentheses");
}

TEST(Robustness, NestedCallsAndPatternsAreLinear) {
  // Backtracking must not re-parse nested arguments (that would be 2^depth).
  std::string calls = "x = ";
  for (int i = 0; i < 190; ++i) calls += "f(a, ";
  calls += "b" + std::string(190, ')') + "\n";
  std::string patterns = "match x:\n    case ";
  for (int i = 0; i < 190; ++i) patterns += "(";
  patterns += "a";
  for (int i = 0; i < 190; ++i) patterns += ",)";
  patterns += ": pass\n";
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(parse(calls)->error.has_value());
  EXPECT_FALSE(parse(patterns)->error.has_value());
  // Generous: a linear parse takes well under a millisecond.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(Robustness, NullBytesAndGarbage) {
  EXPECT_TRUE(parse(std::string("x = 1\0\n", 7))->error.has_value());
  EXPECT_TRUE(parse("\xff\xfe\x80\n")->error.has_value());
  EXPECT_TRUE(parse("\"\"\"")->error.has_value());
  EXPECT_TRUE(parse("f'{")->error.has_value());
}

}  // namespace
