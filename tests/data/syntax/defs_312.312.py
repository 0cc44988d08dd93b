def f(a): pass
class C: pass
