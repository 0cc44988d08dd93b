match x:
    case {}: pass
    case {**rest}: pass
