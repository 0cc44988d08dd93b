café = 'über'  # ☃
µ = 1
