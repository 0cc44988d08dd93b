f"{x # c}"
