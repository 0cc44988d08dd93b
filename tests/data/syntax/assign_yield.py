x = yield y
