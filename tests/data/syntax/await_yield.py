async def f():
    await a.b
    x = yield
    y = yield from z
    z = await (yield)
