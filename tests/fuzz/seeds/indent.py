if a:
	if b:
		pass
	else:
	    pass
while x: continue
