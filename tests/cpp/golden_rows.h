// Reads tests/data/unicode_golden.txt, the interpreter-generated golden data of the
// base/ tests (tools/gen_unicode_tables.py): rows are `kind<TAB>field<TAB>...`.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <string>
#include <vector>

namespace t2k::test_data {

// The tab-separated fields after the kind of every golden row of that kind.
inline std::vector<std::vector<std::string>> golden_rows(const std::string& kind) {
  std::ifstream in(std::string(T2K_TEST_DATA_DIR) + "/unicode_golden.txt", std::ios::binary);
  EXPECT_TRUE(in.good()) << "missing tests/data/unicode_golden.txt";
  std::vector<std::vector<std::string>> rows;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> fields;
    for (std::size_t start = 0;;) {
      const std::size_t tab = line.find('\t', start);
      fields.push_back(line.substr(start, tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    if (!fields.empty() && fields[0] == kind) rows.emplace_back(fields.begin() + 1, fields.end());
  }
  return rows;
}

}  // namespace t2k::test_data
