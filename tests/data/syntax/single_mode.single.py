if a:
    b

