@dec
class A(B, metaclass=M, *C, **D):
    x = 1
class E(): pass
class F: pass
