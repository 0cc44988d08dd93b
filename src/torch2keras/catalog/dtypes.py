"""torch dtypes and the Keras dtype names they become: `dtype=torch.long` is written
`dtype="int64"` wherever a torch dtype appears as a value (an argument of an entry,
`x.to(torch.float16)`). Sizes and kinds are the same; torch.float is float32 and
torch.double float64, as in PyTorch (torch/_C/_VariableFunctions / docs "tensor
attributes")."""

TORCH_DTYPES = {
    "torch.float32": "float32",
    "torch.float": "float32",
    "torch.float64": "float64",
    "torch.double": "float64",
    "torch.float16": "float16",
    "torch.half": "float16",
    "torch.bfloat16": "bfloat16",
    "torch.int64": "int64",
    "torch.long": "int64",
    "torch.int32": "int32",
    "torch.int": "int32",
    "torch.int16": "int16",
    "torch.short": "int16",
    "torch.int8": "int8",
    "torch.uint8": "uint8",
    "torch.bool": "bool",
    # The legacy tensor types, as x.type(torch.LongTensor) reads them.
    "torch.FloatTensor": "float32",
    "torch.DoubleTensor": "float64",
    "torch.HalfTensor": "float16",
    "torch.BFloat16Tensor": "bfloat16",
    "torch.LongTensor": "int64",
    "torch.IntTensor": "int32",
    "torch.ShortTensor": "int16",
    "torch.CharTensor": "int8",
    "torch.ByteTensor": "uint8",
    "torch.BoolTensor": "bool",
}
