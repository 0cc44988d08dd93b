@deco(f"{x}")
def f(a: f"{t}" = f"{d}") -> f"{r}":
    return f"{a}".upper()
f"a"[0]
print(f"{x!r}", end=f"")
x = f"a" \
  f"{b}"
