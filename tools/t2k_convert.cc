// t2k-convert: the conversion engine without Python, for debugging and benches.
//   t2k-convert [--channels-first] [--io-keras] FILE...   prints the Keras module(s)
//   t2k-convert --quiet FILE...                           converts, prints diagnostics only
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "torch2keras/driver/convert.h"

int main(int argc, char** argv) {
  t2k::driver::ConvertOptions options;
  bool quiet = false;
  int status = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--channels-first") options.channels_last = false;
    else if (arg == "--io-keras") options.io_torch = false;
    else if (arg == "--quiet") quiet = true;
    else {
      std::ifstream in(arg, std::ios::binary);
      if (!in) {
        std::fprintf(stderr, "%s: error: cannot read input [T2K006]\n", arg.c_str());
        status = 2;
        continue;
      }
      std::stringstream ss;
      ss << in.rdbuf();
      options.filename = arg;
      t2k::driver::ConvertResult r = t2k::driver::convert_source(ss.str(), options);
      for (const auto& d : r.diagnostics)
        std::fprintf(stderr, "%s\n", t2k::diag::render(d, r.source_text).c_str());
      if (!r.ok()) status = status ? status : 1;
      if (!quiet) std::fwrite(r.code.data(), 1, r.code.size(), stdout);
    }
  }
  return status;
}
