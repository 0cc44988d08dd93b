rf"{x:\n}"
rf"\n{x:\n}"
f"{x:\{y}}"
f"{x:a\\b}"
f"{x:\N{BULLET}a}"
f"{x:a\
b}"
