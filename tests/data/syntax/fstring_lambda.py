x = f'{(lambda y: y)(1)}'
