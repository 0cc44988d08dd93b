a = r'\d' + b'x' + rb'\x' + Br'y' + u'z' + U'w' + R'v'
