"""Linear, Identity, Flatten, Dropout.

Facts (pitfalls.md):
* P10: Linear weight (out, in) is Dense kernel (in, out): load_torch_state_dict
  transposes it. Dense, like Linear, acts on the last axis.
* P30/P61: nn.Flatten flattens in PyTorch order (C, H, W); the engine gives it its
  input in PyTorch layout (layout="flatten"), unless the spatial size is 1: then
  (N, 1, 1, C) and (N, C, 1, 1) flatten to the same (N, C).
* P46: Dropout2d drops whole channels = SpatialDropout2D.
* torchvision.ops.Permute(dims) permutes every axis, the batch axis included;
  keras.layers.Permute keeps the batch axis first and numbers the others from 1.
* P28: Embedding's padding_idx row is zero when made and gets no gradient; the
  lookup is the same (PyTorchEmbedding). Keras' mask_zero is not its translation.
  The loader stores weight as Embedding's `embeddings` (same shape).
* P65: EmbeddingBag has no Keras layer: PyTorchEmbeddingBag keeps PyTorch's
  `weight` and reduces bags with keras.ops segment sums/maxima (padding ids
  left out, empty bags zero; see pytorch_embedding_bag).
"""


@module("torch.nn.Linear", input="float", layout="features")
def Linear(in_features, out_features, bias=True, device=None, dtype=None):
    ignore(in_features, device, dtype)
    return layers.Dense(out_features, use_bias=bias)


@module("torch.nn.Identity", alias=True, layout="any")
def Identity(*args, **kwargs):
    ignore(args, kwargs)
    return layers.Identity()


@module("torch.nn.Flatten", view=True, layout="flatten")
def Flatten(start_dim=1, end_dim=-1):
    require(start_dim == 1 and end_dim == -1,
            "`nn.Flatten({start_dim}, {end_dim})` is not supported yet; only Flatten(1, -1)")
    return layers.Flatten()


@module("torch.nn.Dropout", alias=True, layout="any")
def Dropout(p=0.5, inplace=False):
    ignore(inplace)
    return layers.Dropout(p)


@module("torch.nn.Dropout1d", alias=True, layout="spatial", rank=3, spatial_size="input")
def Dropout1d(p=0.5, inplace=False):
    ignore(inplace)
    return layers.SpatialDropout1D(p)


@module("torch.nn.Dropout2d", alias=True, layout="spatial", rank=4, spatial_size="input")
def Dropout2d(p=0.5, inplace=False):
    ignore(inplace)
    return layers.SpatialDropout2D(p, data_format=DATA_FORMAT)


@module("torch.nn.AlphaDropout", alias=True, layout="any")
def AlphaDropout(p=0.5, inplace=False):
    ignore(inplace)
    return layers.AlphaDropout(p)


@module("torchvision.ops.StochasticDepth", "torchvision.ops.stochastic_depth.StochasticDepth",
        layout="any")
def StochasticDepth(p, mode):
    return PyTorchStochasticDepth(p, mode)


@function("torchvision.ops.stochastic_depth", "torchvision.ops.stochastic_depth.stochastic_depth",
          layout="any")
def stochastic_depth(input, p, mode, training=True):
    if training == False:
        return input
    return pytorch_stochastic_depth(input, p, mode, training)


@module("torchvision.ops.Permute", "torchvision.ops.misc.Permute", view=True, layout="permute",
        dims=("dims",))
def Permute(dims):
    require(dims[0] == 0, "`Permute({dims})` moves the batch axis; keras.layers.Permute keeps it first")
    return layers.Permute(dims[1:])


@module("torch.nn.Unflatten", layout="torch")
def Unflatten(dim, unflattened_size):
    return PyTorchUnflatten(dim, unflattened_size)


@module("torch.nn.PixelShuffle", layout="torch")
def PixelShuffle(upscale_factor):
    return PyTorchPixelShuffle(upscale_factor)


@module("torch.nn.PixelUnshuffle", layout="torch")
def PixelUnshuffle(downscale_factor):
    return PyTorchPixelUnshuffle(downscale_factor)


@module("torch.nn.ChannelShuffle", layout="torch")
def ChannelShuffle(groups):
    return PyTorchChannelShuffle(groups)


@module("torch.nn.Upsample", layout="spatial", rank="input")
def Upsample(size=None, scale_factor=None, mode="nearest", align_corners=None,
             recompute_scale_factor=None):
    ignore(recompute_scale_factor)
    require(mode == "nearest" or mode == "linear" or mode == "bilinear",
            "`mode={mode}` is not supported yet (nearest, linear, bilinear)")
    require(align_corners is None or align_corners == False,
            "`align_corners=True` is not supported yet")
    # The rules of F.interpolate (catalog/functional.py).
    require((size is None and is_int(scale_factor)) or (mode != "nearest" and scale_factor is None),
            "`nn.Upsample` converts with an integer scale_factor, or a size for linear and bilinear, only yet")
    return PyTorchUpsample(size=size, scale_factor=scale_factor, mode=mode, data_format=DATA_FORMAT)


# Padding modules work in PyTorch axis order: `padding` lists (before, after) pairs
# from the last axis backwards (see pytorch_pad).
@module("torch.nn.ZeroPad1d", layout="torch")
def ZeroPad1d(padding):
    return PyTorchPad(padding, 1, "constant", 0.0)


@module("torch.nn.ZeroPad2d", layout="torch")
def ZeroPad2d(padding):
    return PyTorchPad(padding, 2, "constant", 0.0)


@module("torch.nn.ConstantPad1d", layout="torch")
def ConstantPad1d(padding, value):
    return PyTorchPad(padding, 1, "constant", value)


@module("torch.nn.ConstantPad2d", layout="torch")
def ConstantPad2d(padding, value):
    return PyTorchPad(padding, 2, "constant", value)


@module("torch.nn.ReflectionPad1d", layout="torch")
def ReflectionPad1d(padding):
    return PyTorchPad(padding, 1, "reflect")


@module("torch.nn.ReflectionPad2d", layout="torch")
def ReflectionPad2d(padding):
    return PyTorchPad(padding, 2, "reflect")


@module("torch.nn.ReplicationPad1d", layout="torch")
def ReplicationPad1d(padding):
    return PyTorchPad(padding, 1, "replicate")


@module("torch.nn.ReplicationPad2d", layout="torch")
def ReplicationPad2d(padding):
    return PyTorchPad(padding, 2, "replicate")


@module("torch.nn.Embedding", layout="torch", input="int")
def Embedding(num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
              scale_grad_by_freq=False, sparse=False, _weight=None, _freeze=False, device=None,
              dtype=None):
    require(max_norm is None,
            "`max_norm={max_norm}` is not supported yet (PyTorch renormalises the rows it looks up, in place)")
    require(scale_grad_by_freq == False, "`scale_grad_by_freq=True` is not supported yet")
    require(_weight is None, "`_weight=` is not supported yet")
    require(_freeze == False, "`_freeze=True` is not supported yet")
    ignore(norm_type, sparse, device, dtype)
    if padding_idx is None:
        return layers.Embedding(num_embeddings, embedding_dim)
    return PyTorchEmbedding(num_embeddings, embedding_dim, padding_idx=padding_idx)


@module("torch.nn.Embedding.from_pretrained", layout="torch", input="int")
def Embedding_from_pretrained(embeddings, freeze=True, padding_idx=None, max_norm=None, norm_type=2.0,
                              scale_grad_by_freq=False, sparse=False):
    # The classmethod: an Embedding whose table starts as `embeddings`.
    require(max_norm is None,
            "`max_norm={max_norm}` is not supported yet (PyTorch renormalises the rows it looks up, in place)")
    require(scale_grad_by_freq == False, "`scale_grad_by_freq=True` is not supported yet")
    ignore(norm_type, sparse)
    return pytorch_embedding_from_pretrained(embeddings, freeze=freeze, padding_idx=padding_idx)


@module("torch.nn.EmbeddingBag", layout="torch", input="int",
        settings=("num_embeddings", "embedding_dim", "mode", "include_last_offset", "padding_idx"))
def EmbeddingBag(num_embeddings, embedding_dim, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, mode="mean", sparse=False, _weight=None,
                 include_last_offset=False, padding_idx=None, device=None, dtype=None):
    require(max_norm is None,
            "`max_norm={max_norm}` is not supported yet (PyTorch renormalises the rows it looks up, in place)")
    # Like nn.Embedding's: it changes only the gradients, but training would differ.
    require(scale_grad_by_freq == False, "`scale_grad_by_freq=True` is not supported yet")
    require(_weight is None, "`_weight=` is not supported yet")
    # norm_type counts only with max_norm; sparse changes only the gradient's storage.
    ignore(norm_type, sparse, device, dtype)
    return PyTorchEmbeddingBag(num_embeddings, embedding_dim, mode=mode,
                               include_last_offset=include_last_offset, padding_idx=padding_idx)


@module("torch.nn.MultiheadAttention", input="float", layout="torch",
        settings=("embed_dim", "num_heads", "dropout", "batch_first", "kdim", "vdim"))
def MultiheadAttention(embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                       add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                       dtype=None):
    # PyTorch's parameters under their names; masks keep PyTorch's meaning (P29).
    ignore(device, dtype)
    return PyTorchMultiheadAttention(embed_dim, num_heads, dropout=dropout, bias=bias,
                                     add_bias_kv=add_bias_kv, add_zero_attn=add_zero_attn,
                                     kdim=kdim, vdim=vdim, batch_first=batch_first)


# The transformer modules: torch.nn's own composition, sublayers under PyTorch's
# names, `activation` "relu", "gelu" or a callable (a converted module).

@module("torch.nn.TransformerEncoderLayer", input="float", layout="torch")
def TransformerEncoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                            layer_norm_eps=1e-05, batch_first=False, norm_first=False, bias=True,
                            device=None, dtype=None):
    ignore(device, dtype)
    return PyTorchTransformerEncoderLayer(d_model, nhead, dim_feedforward=dim_feedforward,
                                          dropout=dropout, activation=activation,
                                          layer_norm_eps=layer_norm_eps, batch_first=batch_first,
                                          norm_first=norm_first, bias=bias)


@module("torch.nn.TransformerDecoderLayer", input="float", layout="torch")
def TransformerDecoderLayer(d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                            layer_norm_eps=1e-05, batch_first=False, norm_first=False, bias=True,
                            device=None, dtype=None):
    ignore(device, dtype)
    return PyTorchTransformerDecoderLayer(d_model, nhead, dim_feedforward=dim_feedforward,
                                          dropout=dropout, activation=activation,
                                          layer_norm_eps=layer_norm_eps, batch_first=batch_first,
                                          norm_first=norm_first, bias=bias)


@module("torch.nn.TransformerEncoder", input="float", layout="torch")
def TransformerEncoder(encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                       mask_check=True):
    # Inference with a padding mask zeroes the padded positions as PyTorch's
    # nested-tensor path does (PyTorchTransformerEncoder).
    return PyTorchTransformerEncoder(encoder_layer, num_layers, norm=norm,
                                     enable_nested_tensor=enable_nested_tensor,
                                     mask_check=mask_check)


@module("torch.nn.TransformerDecoder", input="float", layout="torch")
def TransformerDecoder(decoder_layer, num_layers, norm=None):
    return PyTorchTransformerDecoder(decoder_layer, num_layers, norm=norm)


@module("torch.nn.Transformer", input="float", layout="torch", settings=("d_model", "nhead", "batch_first"))
def Transformer(d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                dim_feedforward=2048, dropout=0.1, activation="relu", custom_encoder=None,
                custom_decoder=None, layer_norm_eps=1e-05, batch_first=False, norm_first=False,
                bias=True, device=None, dtype=None):
    ignore(device, dtype)
    return PyTorchTransformer(d_model, nhead, num_encoder_layers=num_encoder_layers,
                              num_decoder_layers=num_decoder_layers,
                              dim_feedforward=dim_feedforward, dropout=dropout,
                              activation=activation, custom_encoder=custom_encoder,
                              custom_decoder=custom_decoder, layer_norm_eps=layer_norm_eps,
                              batch_first=batch_first, norm_first=norm_first, bias=bias)


# Weight normalisation (HiFi-GAN, WaveNet, wav2vec2's positional convolution): PyTorch
# keeps the weight as a magnitude g and a direction v; the Keras layer holds the
# weight itself, which load_torch_state_dict computes from the two.
@function("torch.nn.utils.weight_norm", "torch.nn.utils.parametrizations.weight_norm", layout="value")
def weight_norm(module, name="weight", dim=0):
    require(name == "weight", "`weight_norm(name={name})`: only the module's `weight` is supported")
    return pytorch_weight_norm(module, dim=dim)


# Lists and dicts of parameters: Python containers of the Keras variables
# (pytorch_parameter); load_torch_state_dict reaches `ps.0` by index, `pd.a` by key.
@function("torch.nn.ParameterList", layout="value")
def ParameterList(values=None):
    if values is None:
        return []
    return list(values)


@function("torch.nn.ParameterDict", layout="value")
def ParameterDict(parameters=None):
    if parameters is None:
        return {}
    return dict(parameters)
