match x, y:
    case (a, b) as c if c:
        pass
    case [a as b, *_] if b > 0:
        pass
