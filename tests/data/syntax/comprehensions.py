[x for x in y if x if z for w in x]
{x: y for x, y in z}
{x for x in y}
(x async for x in y)
