// Line wrapping for printed Python source, in the style of black: a line longer
// than the limit is split at its rightmost bracket pair at nesting depth 0 (the
// opening bracket ends the first line, the closing one starts the last line), and
// a bracket body that still does not fit on one line gets one item per line, each
// followed by a comma, items wrapped the same way in turn.
//
//     self.features = keras.Sequential([layers.Conv2D(64, 3), layers.ReLU(), ...])
// becomes
//     self.features = keras.Sequential(
//         [layers.Conv2D(64, 3), layers.ReLU(), ...]
//     )
// or, when the list does not fit either,
//     self.features = keras.Sequential(
//         [
//             layers.Conv2D(64, 3),
//             ...
//         ]
//     )
//
// Only lines that are one complete statement are wrapped; lines inside
// multi-line strings, lines with a comment and lines without a bracket pair stay
// as they are (a line is never made invalid: splitting inside brackets needs no
// continuation). The input must be valid Python (the unparser's output).
#pragma once

#include <string>
#include <string_view>

namespace t2k::syntax {

// `source` with every line longer than `width` characters wrapped (see above).
// Returns `source` unchanged if it does not tokenize.
std::string wrap_long_lines(std::string_view source, int width = 99);

}  // namespace t2k::syntax
