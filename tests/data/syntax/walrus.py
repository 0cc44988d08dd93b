if (n := len(a)) > 10: pass
print(y := 1)
[z := 1, 2]
