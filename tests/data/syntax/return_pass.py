def f():
    return
    return a, *b
    pass
