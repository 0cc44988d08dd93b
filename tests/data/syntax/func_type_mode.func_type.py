(int, *str, **float) -> None
