"a" "b"
u"a" "b"
"a" u"b"
b"x" b"y"
r"\d" "\n"
'''a
b'''
