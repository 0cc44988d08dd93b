while a:
    break
else:
    continue
for a, *b in c:
    pass
else:
    pass
for (a) in b: pass
for x.y in z: pass
