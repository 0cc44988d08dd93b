// libFuzzer target: decoding, lexing and parsing arbitrary bytes (as 3.11 and as
// 3.12), then dumping and unparsing whatever parses. Built with ASan and UBSan by
// scripts/test (-DT2K_FUZZ=ON). Any crash, hang or sanitizer report is a bug; its
// input goes to tests/data/fuzz_regressions/ and is replayed by the unit tests.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "torch2keras/syntax/ast_dump.h"
#include "torch2keras/syntax/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (int minor : {11, 12}) {
    t2k::syntax::ParseOptions options;
    options.minor = minor;
    auto parsed = t2k::syntax::parse_source(bytes, options);
    if (parsed->tree != nullptr) {
      std::string out;
      t2k::syntax::DumpOptions dump_options;
      dump_options.include_attributes = true;
      dump_options.minor = minor;
      t2k::syntax::dump_ast(out, parsed->tree, dump_options);
    }
  }
  return 0;
}
