f"{x!if}"
