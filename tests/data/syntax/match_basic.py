match x:
    case 1 | 2 | -3 | 1.5 | 2j | -1+2j | 'a' 'b' | b'c' | None | True:
        pass
    case [a, *rest] | (b, *_) | ():
        pass
    case {'k': v, 1: w, **kw}:
        pass
    case Point(x=0, y=_) | P(a, b, c=d):
        pass
    case a.b.c:
        pass
    case _:
        pass
