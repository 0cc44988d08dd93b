print("a")
