// The conversion driver: runs the phases in order (parse, analysis, lowering,
// emit) on one source file. Nothing else lives here (STYLE.md habit 1).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "torch2keras/diag/diagnostic.h"

namespace t2k::driver {

struct ConvertOptions {
  bool channels_last = true;  // --layout
  bool io_torch = true;       // --io-layout
  bool source_is_text = false;
  std::string filename = "<string>";
  // Pull in the definitions the file imports from its own package (analysis/package.h).
  bool link_package = true;
  // The files converted together with this one (`convert PKG_DIR`): what the file
  // imports from them stays an import (of their converted version, at the same
  // relative path); definitions from other files of the package are copied in.
  std::vector<std::string> package_files;
  bool explain_layout = false;  // --explain-layout: T2K109 notes for the layout changes kept
};

struct ConvertResult {
  std::string code;  // the generated Keras module; empty when there are errors
  std::vector<diag::Diagnostic> diagnostics;
  std::string source_text;  // the decoded input, for rendering diagnostics
  bool ok() const;
};

ConvertResult convert_source(std::string_view bytes, const ConvertOptions& options);

}  // namespace t2k::driver
