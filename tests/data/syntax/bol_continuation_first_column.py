if x:
  \
    y
  z
