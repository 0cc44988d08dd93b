x = 1 .real + 1.0.imag
