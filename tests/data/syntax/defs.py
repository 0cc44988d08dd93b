@a
@b.c(d)
def f(a, /, b: int = 1, *args: int, c, d=2, **kw) -> None:
    '''doc'''
async def g(*, a): pass
def h(*args: *Ts): pass
