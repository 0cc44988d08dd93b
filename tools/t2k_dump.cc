// t2k-dump: the parser from the command line, without Python. For debugging,
// benchmarks and fuzz-corpus triage; users run `torch2keras dump-ast`.
//
//   t2k-dump [--include-attributes] [--python 3.11|3.12] [--mode exec|eval|single|func_type]
//            [--quiet | --unparse] FILE...
// Prints ast.dump of each file, or `ERROR <Kind> <line>:<col>: <message>`.
// --quiet parses without printing (for timing); --unparse prints the source back,
// comments kept (tools/check_roundtrip.py). Exit status: 0 if all parsed.
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "torch2keras/syntax/ast_dump.h"
#include "torch2keras/syntax/parser.h"
#include "torch2keras/syntax/unparse.h"

int main(int argc, char** argv) {
  t2k::syntax::ParseOptions options;
  t2k::syntax::DumpOptions dump_options;
  bool quiet = false;
  bool unparse = false;
  int status = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--include-attributes") {
      dump_options.include_attributes = true;
    } else if (arg == "--quiet") {
      quiet = true;
    } else if (arg == "--unparse") {
      unparse = true;
    } else if (arg == "--python" && i + 1 < argc) {
      std::string v = argv[++i];
      options.minor = v == "3.12" ? 12 : 11;
      dump_options.minor = options.minor;
    } else if (arg == "--mode" && i + 1 < argc) {
      std::string v = argv[++i];
      options.mode = v == "eval"        ? t2k::syntax::Mode::Eval
                     : v == "single"    ? t2k::syntax::Mode::Single
                     : v == "func_type" ? t2k::syntax::Mode::FuncType
                                        : t2k::syntax::Mode::Exec;
    } else {
      std::ifstream in(arg, std::ios::binary);
      if (!in) {
        std::fprintf(stderr, "%s: error: cannot read file\n", arg.c_str());
        status = 2;
        continue;
      }
      std::stringstream buffer;
      buffer << in.rdbuf();
      std::string bytes = buffer.str();
      auto parsed = t2k::syntax::parse_source(bytes, options);
      if (parsed->error) {
        const auto& e = *parsed->error;
        std::printf("ERROR %s %d:%d: %s\n", t2k::syntax::kind_name(e.kind), e.lineno,
                    e.col_offset + 1, e.message.c_str());
        status = 1;
        continue;
      }
      if (quiet) continue;
      if (unparse) {
        t2k::syntax::UnparseOptions unparse_options;
        unparse_options.comments = &parsed->comments;
        unparse_options.minor = options.minor;
        std::string text = t2k::syntax::unparse(parsed->tree, unparse_options);
        std::fwrite(text.data(), 1, text.size(), stdout);
        continue;
      }
      std::string out;
      t2k::syntax::dump_ast(out, parsed->tree, dump_options);
      out += '\n';
      std::fwrite(out.data(), 1, out.size(), stdout);
    }
  }
  return status;
}
