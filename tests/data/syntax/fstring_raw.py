x = rf'\d{a}\{b}' fr'{c}'
