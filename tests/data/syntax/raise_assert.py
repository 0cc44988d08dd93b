raise
raise A
raise A from B
assert a
assert a, b
