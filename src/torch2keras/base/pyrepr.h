// Python 3.11's repr() of the constant types a literal can produce, and the
// conversion of numeric literal text to values.
//
// ast.dump prints every Constant with repr(), so the engine's dump only matches
// CPython's if these agree character for character (quote choice, escape forms,
// float exponent rules). Each repr_* appends to `out`; the output is UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace t2k::pyrepr {

// repr(str) for a string held as WTF-8 (lone surrogates allowed). Quotes with '
// unless the text contains ' and no ", then with ". Escapes \\, the quote,
// \t \n \r; other characters below U+0020 and U+007F as \xNN; non-ASCII
// characters that are not printable (unicode::is_printable; lone surrogates
// included) as \xNN, \uNNNN or \UNNNNNNNN by size, lower-case hex.
void repr_str(std::string& out, std::string_view wtf8);

// repr(bytes): b'...' with the same quote rule; \\, the quote, \t \n \r, and
// \xNN for bytes below 0x20 or from 0x7F up.
void repr_bytes(std::string& out, std::string_view bytes);

// repr(float): the shortest digits that round-trip; positional notation when
// the decimal exponent is in [-4, 16) ('0.0001', '1e-05', '1000000000000000.0',
// '1e+16'), with '.0' added to integral values; 'inf', '-inf', 'nan', '-0.0'.
void repr_float(std::string& out, double v);

// repr(complex(0.0, imag)), i.e. of an imaginary literal: like repr_float
// without the '.0', then 'j': '1j', '1.5j', '1e+16j', 'infj', 'nanj', '-0j'.
void repr_imaginary(std::string& out, double imag);

// The decimal digits of a Python int literal: decimal, 0x/0o/0b in either case,
// underscores, leading zeros ("00"), any size ("0xffffffffffffffffffffffff" ->
// "79228162514264337593543950335"). The literal is assumed valid (the lexer
// checked it); characters that are not digits of its base are skipped.
std::string int_literal_to_decimal(std::string_view literal);

// The correctly rounded double of a Python float literal (digits, '.',
// exponent, underscores; no sign). A trailing 'j'/'J' of an imaginary literal is
// ignored. Overflow gives inf (1e400) and underflow 0.0, as float() does.
// Returns NaN for text that is not a float literal.
double parse_float_literal(std::string_view literal);

}  // namespace t2k::pyrepr
