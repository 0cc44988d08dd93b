a + b

