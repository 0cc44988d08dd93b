f"{x=y}"
