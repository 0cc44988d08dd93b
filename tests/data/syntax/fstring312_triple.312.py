x = f"""
line one {a}
  line two {b!r}
"""
y = f'''{a}
'''
f""""""
f"""a"b""c"""
