@dec(1)
async def f(a, /, b: int = 1, *args: *Ts, c, d=2, **kw) -> None:
    async with a as (b, c), d:
        await x
    async for i in y:
        yield i
    return [j async for j in k if j]
