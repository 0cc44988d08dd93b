x = f"a{b}c"
y = f'{a}{b}'
z = F"{x!r} {y!s} {z!a}"
f""
f"plain"
