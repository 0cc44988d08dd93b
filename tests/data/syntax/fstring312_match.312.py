match x:
    case f"a{b}":
        pass
    case "a" f"b":
        pass
