// Files compiled into the engine: the catalog (src/torch2keras/catalog/*.py) and
// the runtime code copied into generated modules (src/torch2keras/emit/runtime/*.py).
// cmake/embed_sources.cmake generates the table at build time, so editing a
// catalog file needs a rebuild but no code change.
#pragma once

#include <span>
#include <string_view>

namespace t2k {

struct EmbeddedFile {
  std::string_view path;  // relative to src/torch2keras, e.g. "catalog/nn_conv.py"
  std::string_view text;
};

std::span<const EmbeddedFile> embedded_files();

// The text of the embedded file at `path`, or an empty view if there is none.
std::string_view embedded_file(std::string_view path);

}  // namespace t2k
