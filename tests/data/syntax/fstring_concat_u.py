x = u'a' f'{b}' 'c'
