x = f"{x}"
y = f"""a
{b}
"""
