type = 1
type(x)
print(type)
