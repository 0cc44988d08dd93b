a = '\n\t\x41\101\u00e9\U0001F600\N{BULLET}\\\'\d'
b = b'\x00\777\n'
