x
    y
z = "abc
