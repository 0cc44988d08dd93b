// Emits the generated Keras module: the provenance docstring and imports, the
// lowered statements (printed by the unparser, source comments carried over), the
// runtime helper classes the lowering used, and `load_torch_state_dict` (both
// copied from emit/runtime/*.py, embedded in the engine).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "torch2keras/lowering/lower.h"
#include "torch2keras/syntax/token.h"

namespace t2k::emit {

struct EmitInput {
  std::string_view source_name;  // "simple_conv.py"
  bool channels_last = true;
  bool io_torch = true;
  const std::vector<syntax::Comment>* comments = nullptr;
  // Source lines whose code the lowering removed (LowerOutput::left_out).
  const std::vector<std::pair<int32_t, int32_t>>* removed_lines = nullptr;
};

std::string emit_module(lowering::LowerOutput& lowered, lowering::Builder& builder,
                        const EmitInput& input);

}  // namespace t2k::emit
