with a: pass
with a as b, c as (d, e): pass
with (a, b): pass
with (a, b) as c: pass
with (a as b, c): pass
with (yield): pass
