a = u'x' 'y'
b = 'x' u'y'
