a, *b = c
*a, b = c
x = [*a, *b]
f(*a, *b, **c, **d)
