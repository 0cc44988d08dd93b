a, b,
