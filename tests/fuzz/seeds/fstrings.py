x = f"{a!r:>{w}} {b=} {{}} {c:{d}.{e}}"
y = rb"\x00" b"a" 
z = u"\N{BULLET}\u1234\U0001F600"
