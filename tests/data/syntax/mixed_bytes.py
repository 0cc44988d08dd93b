a = 'x' b'y'
