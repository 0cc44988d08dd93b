// Replays tests/data/syntax/*.py against the parser: each case's .expected file
// holds what CPython prints (ast.dump with attributes) or `ERROR <Class>` when
// CPython rejects it; tools/gen_syntax_cases.py regenerates them from CPython.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "torch2keras/syntax/ast_dump.h"
#include "torch2keras/syntax/parser.h"

namespace {

namespace fs = std::filesystem;
using t2k::syntax::Mode;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

struct Case {
  std::string name;
  fs::path source;
  int minor = 11;
  Mode mode = Mode::Exec;
};

std::vector<Case> load_cases() {
  std::vector<Case> cases;
  for (const auto& entry : fs::directory_iterator(fs::path(T2K_TEST_DATA_DIR) / "syntax")) {
    if (entry.path().extension() != ".py") continue;
    Case c;
    c.source = entry.path();
    c.name = entry.path().stem().string();
    // NAME[.MODE][.312]
    std::stringstream parts(c.name);
    std::string part;
    std::getline(parts, part, '.');
    while (std::getline(parts, part, '.')) {
      if (part == "312") c.minor = 12;
      if (part == "eval") c.mode = Mode::Eval;
      if (part == "single") c.mode = Mode::Single;
      if (part == "func_type") c.mode = Mode::FuncType;
    }
    cases.push_back(c);
  }
  std::sort(cases.begin(), cases.end(), [](const Case& a, const Case& b) { return a.name < b.name; });
  return cases;
}

class ParserCases : public ::testing::TestWithParam<Case> {};

TEST_P(ParserCases, MatchesCPython) {
  const Case& c = GetParam();
  std::string expected = read_file(fs::path(c.source).replace_extension(".expected"));
  ASSERT_FALSE(expected.empty()) << "missing expectation; run tools/gen_syntax_cases.py";
  if (!expected.empty() && expected.back() == '\n') expected.pop_back();

  t2k::syntax::ParseOptions options;
  options.minor = c.minor;
  options.mode = c.mode;
  auto parsed = t2k::syntax::parse_source(read_file(c.source), options);
  if (expected.rfind("ERROR ", 0) == 0) {
    ASSERT_TRUE(parsed->error.has_value()) << "CPython rejects this source, we accept it";
    std::string cpython_class = expected.substr(6);
    if (cpython_class != "ValueError") {
      EXPECT_EQ(t2k::syntax::kind_name(parsed->error->kind), cpython_class)
          << parsed->error->message;
    }
    return;
  }
  ASSERT_FALSE(parsed->error.has_value()) << parsed->error->message << " at "
                                          << parsed->error->lineno << ":"
                                          << parsed->error->col_offset;
  std::string got;
  t2k::syntax::DumpOptions dump_options;
  dump_options.include_attributes = true;
  dump_options.minor = c.minor;
  t2k::syntax::dump_ast(got, parsed->tree, dump_options);
  EXPECT_EQ(got, expected);
}

INSTANTIATE_TEST_SUITE_P(Syntax, ParserCases, ::testing::ValuesIn(load_cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                           std::string name = info.param.name;
                           for (char& ch : name)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return name;
                         });

}  // namespace
