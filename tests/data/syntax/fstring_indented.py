if 1:
    x = (f'a'
         f'{b}')
