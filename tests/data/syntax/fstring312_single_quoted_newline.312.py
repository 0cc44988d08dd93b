f"{x
}"
f"{ x,
  y }"
f'{
(a)
}'
