a: int
b: int = 1
(c): int
d.e: str = 'x'
f[0]: int
g: int = yield
