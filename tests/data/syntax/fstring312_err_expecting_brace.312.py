f"{x:a{{y}}"
