def g():
    f"{yield}"
    f"{yield x}"
    f"{(yield x)=}"
async def h():
    f"{await x}"
    f"{[y async for y in x]}"
