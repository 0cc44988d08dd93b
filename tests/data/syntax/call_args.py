f(a, b=1, *c, d=2, **e)
f(x for x in y)
f(a)(b)(c)
