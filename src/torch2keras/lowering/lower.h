// Lowering: a parsed PyTorch module in, the statements of the Keras module out.
//
// Each model class becomes a Keras class with the same name and constructor
// signature (lowering/lower.cc has the rules); `forward` becomes `call`; catalog
// entries replace torch modules, functions and tensor methods; a layout pass over
// every `call` gives each tensor value a layout (PyTorch order or channels-last)
// and inserts a transpose wherever a value must change layout. Torch imports are
// removed. Whatever cannot be converted exactly is an error diagnostic at its
// location, and any torch reference left in the output is one too.
#pragma once

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "torch2keras/analysis/classes.h"
#include "torch2keras/analysis/imports.h"
#include "torch2keras/diag/diagnostic.h"
#include "torch2keras/lowering/build.h"

namespace t2k::lowering {

struct LowerOptions {
  bool channels_last = true;  // --layout channels_last (default) or channels_first
  bool io_torch = true;       // --io-layout torch (default) or keras
  std::string filename;       // for diagnostics
  // Statements of the module that are analysed but not written (definitions of
  // files converted together with this one, which it imports instead).
  std::set<const ast::StmtNode*> hidden;
  // Package-relative imports of files converted together: not part of the
  // module analysed (it holds their definitions, hidden), written after the
  // module's own imports.
  std::vector<ast::StmtNode*> kept_imports;
  // Classes of this module that other files converted with it import: building
  // blocks there, so never the top-level model here (both conversions agree on
  // their tensor layouts).
  std::set<std::string> imported_elsewhere;
  // --explain-layout: a T2K109 note for each layout change written (transposes,
  // reorderings, Permute layers), naming what needs it.
  bool explain_layout = false;
};

struct ModelInfo {
  std::string name;       // "ResNet"
  std::string signature;  // "(self, block, layers, num_classes=1000)" as written
  // The constructor's parameters as a call with their defaults, for the usage
  // line of the generated docstring: "block, layers, num_classes=1000".
  std::string call_args;
  bool top_level = false;  // becomes keras.Model
};

struct LowerOutput {
  std::vector<ast::StmtNode*> body;  // the converted module's statements (no imports of keras)
  std::vector<diag::Diagnostic> diagnostics;
  std::set<std::string> helpers;     // runtime helper classes used (PyTorchMaxPooling2D...)
  std::vector<std::pair<std::string, std::string>> renames;  // torch attribute -> Python attribute
  std::vector<ModelInfo> models;
  std::string docstring;  // the input module's docstring, carried into the generated one
  // Line ranges (first, last) of input code left out inside kept statements (jit
  // overload stubs, script code's model.train() and `with torch.no_grad():`
  // header): their comments are left out too, and they print no blank line.
  std::vector<std::pair<int, int>> left_out;
  // Training code got GradientTapes (lowering/training.h): the module imports
  // tensorflow and needs the TensorFlow backend.
  bool uses_tensorflow = false;
  // The name tensorflow is imported as: `tf`, unless the code uses that name.
  std::string tensorflow_alias = "tf";
};

LowerOutput lower_module(const ast::Module* module, const analysis::ImportScope& scope,
                         const std::vector<analysis::ClassInfo>& classes, Builder& builder,
                         const LowerOptions& options);

}  // namespace t2k::lowering
