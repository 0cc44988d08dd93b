f"{'\n'.join(lines)}"
f"{x!r:\n}"
f"{'\\'}"
f"{"\N{BULLET}"}"
