a = 'abc\
def'
