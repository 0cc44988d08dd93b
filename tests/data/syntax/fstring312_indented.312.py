if x:
	f"{
  y}"
	pass
class C:
    z = f"""
{1}
"""
