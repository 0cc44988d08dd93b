f"""{x # comment
=}"""
f'''{x  # 'quoted'
  = }'''
f"{'#'=}"
f"""{
x
=
}"""
