f"{x:a}b}"
