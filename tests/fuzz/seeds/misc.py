try:
    pass
except* (A, B) as e:
    raise X from e
else:
    pass
finally:
    del a[1:2, ::3], b.c
global g
lambda *a, k=1, **kw: (yield)
x = [*a, *b]; y = {**d, "k": (z := 3)}
from .. import (a as b, c,)
