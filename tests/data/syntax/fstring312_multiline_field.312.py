f"""{
    a +
    b
}"""
f'''{x # comment
}'''
f"""a
{ b  # c
  , c}
d"""
