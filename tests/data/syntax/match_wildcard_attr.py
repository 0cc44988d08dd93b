match x:
    case _.y: pass
