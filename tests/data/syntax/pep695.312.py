type A = int
type B[T: int, *Ts, **P] = list[T]
def f[T](x: T) -> T: ...
class C[T, U: (int, str)](Base): pass
