@(lambda f: f)
@a[0].b
def f(): pass
