match = 1
match(x)
match[x]
case = 2
_ = 3
match x:
    case case: pass
