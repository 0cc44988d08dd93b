x = 0xffffffffffffffffffffffffffff + 123456789012345678901234567890
