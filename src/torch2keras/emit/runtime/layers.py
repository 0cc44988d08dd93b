"""Runtime helpers for converted models: layers with PyTorch semantics Keras lacks.

The generated module copies the definitions it uses from this file (keras and
numpy only). Each one documents the PyTorch behaviour it reproduces; facts are
from ../../../../shared/reference/pitfalls.md (P19-P22, P37).
"""

import keras
import numpy as np
from keras import layers, ops


def _t2k_all_equal(value, expected):
    """True when `value` (an int or a tuple of ints) is `expected` everywhere."""
    if isinstance(value, (tuple, list)):
        return all(v == expected for v in value)
    return value == expected


def _t2k_is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _t2k_same_padding(padding, kernel_size, stride, dilation):
    """True when PyTorch's symmetric `padding` equals Keras padding="same".

    Keras "same" with stride 1 pads d*(k-1) in total, half before: equal to
    PyTorch's p on both sides when d*(k-1) is even and p = d*(k-1)/2 (P02).
    """
    values = [padding, kernel_size, stride, dilation]
    n = max(len(v) if isinstance(v, (tuple, list)) else 1 for v in values)

    def at(v, i):
        return v[i] if isinstance(v, (tuple, list)) else v

    for i in range(n):
        p, k, s, d = (at(v, i) for v in values)
        if not all(isinstance(x, int) for x in (p, k, s, d)):
            return False
        total = d * (k - 1)
        if s != 1 or total % 2 != 0 or p != total // 2:
            return False
    return True


def _t2k_tuple(value, n):
    if isinstance(value, (tuple, list)):
        return tuple(int(v) for v in value)
    return (int(value),) * n


def _t2k_select(condition, yes, no):
    """`yes if condition else no`: Python's for Python values, keras.ops.where for
    tensors (sizes known only when the model runs)."""
    if isinstance(condition, (bool, np.bool_)):
        return yes if condition else no
    return ops.where(condition, yes, no)


def pytorch_pool(inputs, mode, pool_size, strides=None, padding=0, ceil_mode=False,
                 count_include_pad=True, data_format="channels_last"):
    """PyTorch max ("max") or average ("avg") pooling over the spatial axes of `inputs`.

    PyTorch pads `padding` on both sides of each spatial axis; with `ceil_mode`
    the output length is ceil((L + 2p - k) / s) + 1, less one when the last
    window would start in the right padding (P22). Max pooling pads with -inf
    (P19). Average pooling divides by the window's size clipped to the padded
    input when `count_include_pad`, else by its number of input elements (P21).
    Spatial sizes may be unknown until the model runs (variable-length
    sequences); a window known only then (F.max_pool1d(h, h.size(2)), a max over
    time) needs stride = window, no padding and no ceil_mode.
    """
    rank = len(inputs.shape) - 2
    first = 1 if data_format == "channels_last" else 2
    spatial_axes = list(range(first, first + rank))
    if not all(_t2k_is_int(k) for k in (pool_size if isinstance(pool_size, (tuple, list)) else [pool_size])):
        return _t2k_pool_windows(inputs, mode, pool_size, strides, padding, ceil_mode, spatial_axes)
    pool_size = _t2k_tuple(pool_size, rank)
    strides = _t2k_tuple(strides if strides is not None else pool_size, rank)
    padding = _t2k_tuple(padding, rank)
    extents = []  # per spatial axis: (padding before, padding after, input length)
    for axis, k, s, p in zip(spatial_axes, pool_size, strides, padding):
        length = inputs.shape[axis]
        if length is None:  # known when the model runs: the same arithmetic on tensors
            length = ops.shape(inputs)[axis]
        span = length + 2 * p - k
        if ceil_mode:
            out = -(-span // s) + 1
            out = _t2k_select((out - 1) * s >= length + p, out - 1, out)
        else:
            out = span // s + 1
        after = (out - 1) * s + k - (length + p)
        after = _t2k_select(after > p, after, p)
        extents.append((p, after, length))
    pads = [[0, 0] for _ in range(rank + 2)]
    for axis, (before, after, _) in zip(spatial_axes, extents):
        pads[axis] = [before, after]
    if mode == "max":
        padded = ops.pad(inputs, pads, constant_values=float("-inf"))
        return ops.max_pool(padded, pool_size, strides, "valid", data_format)
    padded = ops.pad(inputs, pads)
    window = float(np.prod(pool_size))
    sums = ops.average_pool(padded, pool_size, strides, "valid", data_format) * window
    # The divisor: the same pooling over a mask of what PyTorch counts.
    mask_shape = [1] * (rank + 2)
    mask_pads = [[0, 0] for _ in range(rank + 2)]
    for axis, (before, after, length), p in zip(spatial_axes, extents, padding):
        if count_include_pad:
            mask_shape[axis] = length + 2 * p
            mask_pads[axis] = [0, after - p]
        else:
            mask_shape[axis] = length
            mask_pads[axis] = [before, after]
    mask = ops.pad(ops.ones(mask_shape, dtype=inputs.dtype), mask_pads)
    counts = ops.average_pool(mask, pool_size, strides, "valid", data_format) * window
    return sums / counts


def _t2k_pool_windows(inputs, mode, pool_size, strides, padding, ceil_mode, spatial_axes):
    """Pooling by a window known only when the model runs: windows side by side
    (stride = window, no padding, no ceil_mode: the trailing rest is dropped, as
    PyTorch drops it), each axis split into (count, window) and reduced."""
    rank = len(spatial_axes)
    windows = list(pool_size) if isinstance(pool_size, (tuple, list)) else [pool_size] * rank
    if strides is not None and strides != pool_size:
        raise ValueError("pytorch_pool: a window known only at run time needs stride = window")
    if not _t2k_all_equal(padding, 0) or ceil_mode:
        raise ValueError("pytorch_pool: a window known only at run time needs no padding and no ceil_mode")
    x = inputs
    for axis, k in zip(spatial_axes, windows):
        shape = ops.shape(x)
        count = shape[axis] // k
        index = [slice(None)] * len(x.shape)
        index[axis] = slice(0, count * k)
        x = ops.reshape(x[tuple(index)], tuple(shape[:axis]) + (count, k) + tuple(shape[axis + 1:]))
        x = ops.max(x, axis=axis + 1) if mode == "max" else ops.mean(x, axis=axis + 1)
    return x


def _t2k_normalized_shape(normalized_shape):
    """PyTorch's normalized_shape (an int or a sequence) as a tuple."""
    return (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)


def pytorch_layer_norm(inputs, normalized_shape, weight=None, bias=None, eps=1e-5):
    """torch.nn.functional.layer_norm: normalise over the last len(normalized_shape) axes.

    Biased variance, eps inside the square root, as PyTorch computes it; `weight`
    and `bias` have the shape `normalized_shape`.
    """
    axes = tuple(range(-len(_t2k_normalized_shape(normalized_shape)), 0))
    mean = ops.mean(inputs, axis=axes, keepdims=True)
    variance = ops.mean(ops.square(inputs - mean), axis=axes, keepdims=True)
    outputs = (inputs - mean) * ops.rsqrt(variance + eps)
    if weight is not None:
        outputs = outputs * weight
    if bias is not None:
        outputs = outputs + bias
    return outputs


def pytorch_var(inputs, dim=None, correction=1, keepdim=False, std=False):
    """torch.var / torch.std: the sum of squared deviations from the mean over
    `dim` (every axis when None) divided by N - correction, N the number of
    values reduced (PyTorch's default correction 1 is the sample variance;
    keras.ops.var divides by N). The square root of it with `std`."""
    axes = tuple(range(len(inputs.shape))) if dim is None else dim if isinstance(dim, (tuple, list)) else (dim,)
    sizes = [inputs.shape[axis] for axis in axes]
    if any(size is None for size in sizes):  # known only when the graph runs
        shape = ops.shape(inputs)
        count = 1
        for axis in axes:
            count = count * ops.cast(shape[axis], inputs.dtype)
        divisor = ops.maximum(count - correction, 0.0)
    else:
        divisor = max(int(np.prod(sizes)) - correction, 0)
    mean = ops.mean(inputs, axis=axes, keepdims=True)
    total = ops.sum(ops.square(inputs - mean), axis=axes, keepdims=keepdim)
    variance = total / divisor
    return ops.sqrt(variance) if std else variance


def pytorch_scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                         is_causal=False, scale=None):
    """torch.nn.functional.scaled_dot_product_attention on (..., L, E) queries and
    (..., S, E) keys, (..., S, Ev) values: softmax(q k^T * scale + mask) v.

    `scale` defaults to 1 / sqrt(E). A boolean `attn_mask` says which scores TAKE
    PART (True = keep: the opposite of nn.MultiheadAttention's masks); a float one
    is added to the scores. `is_causal` keeps key j <= query i (a lower-triangular
    (L, S) mask). A query whose every key is masked out gets 0, as PyTorch's
    safe softmax gives. PyTorch applies dropout whenever dropout_p > 0, in eval
    mode too: so does this.
    """
    if scale is None:  # 1 / sqrt(E); E may be known only when the graph runs
        depth = query.shape[-1]
        scale = (1.0 / float(np.sqrt(depth)) if depth is not None
                 else ops.rsqrt(ops.cast(ops.shape(query)[-1], query.dtype)))
    scores = ops.matmul(query, ops.swapaxes(key, -1, -2)) * scale
    if is_causal:
        scores = _t2k_causal_scores(scores)
    if attn_mask is not None:
        if keras.backend.standardize_dtype(attn_mask.dtype) == "bool":
            scores = ops.where(attn_mask, scores, float("-inf"))
        else:
            scores = scores + ops.cast(attn_mask, scores.dtype)
    weights = ops.softmax(scores, axis=-1)
    if attn_mask is not None:
        # PyTorch's safe softmax (2.5+): a query whose every key is masked out gets
        # zero weights, so its output is 0, not NaN (left-padded batches).
        alive = ops.max(scores, axis=-1, keepdims=True) > float("-inf")
        weights = ops.where(alive, weights, ops.zeros_like(weights))
    if not (isinstance(dropout_p, (int, float)) and dropout_p == 0):
        weights = keras.random.dropout(weights, dropout_p)
    return ops.matmul(weights, value)


def _t2k_with_key_column(mask):
    """A mask with one more key column that masks nothing (False / 0.0): the key
    that add_bias_kv or add_zero_attn appends (PyTorch pads its masks the same
    way: F.pad(mask, (0, 1)) in multi_head_attention_forward)."""
    return ops.concatenate([mask, ops.zeros_like(mask[..., :1])], axis=-1)


def _t2k_causal_scores(scores):
    """Scores (..., L, S) with key j > query i set to -inf: PyTorch's is_causal
    (the top-left aligned lower triangle of scaled_dot_product_attention)."""
    rows = ops.expand_dims(ops.arange(ops.shape(scores)[-2]), -1)
    return ops.where(rows >= ops.arange(ops.shape(scores)[-1]), scores, float("-inf"))


class PyTorchMultiheadAttention(layers.Layer):
    """torch.nn.MultiheadAttention with PyTorch's parameters and their names, so
    load_torch_state_dict copies them as they are (P29): in_proj_weight (3E, E) =
    [Wq; Wk; Wv], or q_proj_weight (E, E), k_proj_weight (E, kdim) and
    v_proj_weight (E, vdim) when kdim or vdim differs from E; in_proj_bias (3E);
    bias_k and bias_v (1, 1, E) with add_bias_kv; out_proj a Dense.

    call(query, key, value, key_padding_mask=None, need_weights=True,
    attn_mask=None, average_attn_weights=True, is_causal=False) returns
    (attn_output, attn_weights) as PyTorch does: inputs (L, N, E), or (N, L, E)
    with batch_first, or unbatched (L, E). Masks keep PyTorch's meaning: a
    boolean mask's True entries are masked out (key_padding_mask (N, S), attn_mask
    (L, S) or (N * heads, L, S)); a float mask is added to the scores.
    add_bias_kv appends the learned key/value bias_k/bias_v to the projected keys
    and values, add_zero_attn a zero key and value per head; both add a key that
    no mask masks. is_causal, PyTorch's hint that attn_mask is the causal mask,
    replaces attn_mask by the causal mask when no key_padding_mask is given and
    need_weights is False (torch.nn.functional.multi_head_attention_forward);
    otherwise attn_mask is what counts. The weights are averaged over heads
    unless average_attn_weights is False; None without need_weights. Dropout on
    the weights in training only.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, **kwargs):
        super().__init__(**kwargs)
        self.embed_dim, self.num_heads = embed_dim, num_heads
        self.dropout, self.bias, self.batch_first = dropout, bias, batch_first
        self.add_bias_kv, self.add_zero_attn = add_bias_kv, add_zero_attn
        self.kdim = embed_dim if kdim is None else kdim
        self.vdim = embed_dim if vdim is None else vdim
        e = embed_dim
        if self.kdim == e and self.vdim == e:
            self.in_proj_weight = self.add_weight(shape=(3 * e, e), initializer="glorot_uniform",
                                                  name="in_proj_weight")
        else:
            self.q_proj_weight = self.add_weight(shape=(e, e), initializer="glorot_uniform",
                                                 name="q_proj_weight")
            self.k_proj_weight = self.add_weight(shape=(e, self.kdim), initializer="glorot_uniform",
                                                 name="k_proj_weight")
            self.v_proj_weight = self.add_weight(shape=(e, self.vdim), initializer="glorot_uniform",
                                                 name="v_proj_weight")
        self.in_proj_bias = self.add_weight(shape=(3 * e,), initializer="zeros",
                                            name="in_proj_bias") if bias else None
        if add_bias_kv:
            self.bias_k = self.add_weight(shape=(1, 1, e), initializer="glorot_normal", name="bias_k")
            self.bias_v = self.add_weight(shape=(1, 1, e), initializer="glorot_normal", name="bias_v")
        self.out_proj = layers.Dense(e, use_bias=bias)

    def _projections(self, query, key, value):
        """The projected (N, L, E) queries and (N, S, E) keys and values."""
        e, b = self.embed_dim, self.in_proj_bias
        if hasattr(self, "in_proj_weight"):
            w = self.in_proj_weight
            weights = (w[:e], w[e:2 * e], w[2 * e:])
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        out = []
        for i, (x, weight) in enumerate(zip((query, key, value), weights)):
            x = ops.matmul(x, ops.transpose(weight))
            out.append(x if b is None else x + b[i * e:(i + 1) * e])
        return out

    def _heads(self, x):
        n, length = ops.shape(x)[0], ops.shape(x)[1]
        return ops.transpose(ops.reshape(x, (n, length, self.num_heads, -1)), (0, 2, 1, 3))

    def call(self, query, key, value, key_padding_mask=None, need_weights=True, attn_mask=None,
             average_attn_weights=True, is_causal=False, training=None):
        batched = len(query.shape) == 3
        if not batched:  # (L, E): a batch of one
            query, key, value = (ops.expand_dims(t, 0) for t in (query, key, value))
            if key_padding_mask is not None:
                key_padding_mask = ops.expand_dims(key_padding_mask, 0)
        elif not self.batch_first:
            query, key, value = (ops.swapaxes(t, 0, 1) for t in (query, key, value))
        causal = is_causal and key_padding_mask is None and not need_weights
        if causal:
            attn_mask = None
        q, k, v = self._projections(query, key, value)
        e, n = self.embed_dim, ops.shape(q)[0]
        if attn_mask is not None and len(attn_mask.shape) == 3:  # (N * heads, L, S)
            shape = ops.shape(attn_mask)  # sizes known only when the graph runs, too
            attn_mask = ops.reshape(attn_mask, (n, self.num_heads, shape[1], shape[2]))
        if self.add_bias_kv:
            k = ops.concatenate([k, ops.broadcast_to(self.bias_k, (n, 1, e))], axis=1)
            v = ops.concatenate([v, ops.broadcast_to(self.bias_v, (n, 1, e))], axis=1)
        q, k, v = self._heads(q), self._heads(k), self._heads(v)
        if self.add_zero_attn:
            k = ops.concatenate([k, ops.zeros_like(k[:, :, :1])], axis=2)
            v = ops.concatenate([v, ops.zeros_like(v[:, :, :1])], axis=2)
        for _ in range(int(self.add_bias_kv) + int(self.add_zero_attn)):
            attn_mask = None if attn_mask is None else _t2k_with_key_column(attn_mask)
            if key_padding_mask is not None:
                key_padding_mask = _t2k_with_key_column(key_padding_mask)
        scores = ops.matmul(q, ops.swapaxes(k, -1, -2)) / float(np.sqrt(e // self.num_heads))
        if causal:
            scores = _t2k_causal_scores(scores)
        if attn_mask is not None:
            scores = self._masked(scores, attn_mask)
        if key_padding_mask is not None:
            scores = self._masked(scores, key_padding_mask[:, None, None, :])
        weights = ops.softmax(scores, axis=-1)
        dropped = weights
        if training and self.dropout > 0:
            dropped = keras.random.dropout(weights, self.dropout)
        out = ops.reshape(ops.transpose(ops.matmul(dropped, v), (0, 2, 1, 3)), (n, -1, e))
        out = self.out_proj(out)
        if not batched:
            out, weights = out[0], weights[0]
        elif not self.batch_first:
            out = ops.swapaxes(out, 0, 1)
        if not need_weights:
            return out, None
        return out, ops.mean(weights, axis=-3) if average_attn_weights else weights

    @staticmethod
    def _masked(scores, mask):
        if keras.backend.standardize_dtype(mask.dtype) == "bool":
            return ops.where(mask, float("-inf"), scores)
        return scores + ops.cast(mask, scores.dtype)

    def get_config(self):
        config = super().get_config()
        config.update(embed_dim=self.embed_dim, num_heads=self.num_heads, dropout=self.dropout,
                      bias=self.bias, add_bias_kv=self.add_bias_kv,
                      add_zero_attn=self.add_zero_attn, kdim=self.kdim, vdim=self.vdim,
                      batch_first=self.batch_first)
        return config


def _t2k_relu_or_gelu(activation):
    """PyTorch's TransformerEncoderLayer.activation_relu_or_gelu: "relu", "gelu",
    F.relu, F.gelu, an nn.ReLU or an nn.GELU (as converted)."""
    if isinstance(activation, str):
        return activation in ("relu", "gelu")
    # F.relu / F.gelu passed as values are converted to functions whose docstring
    # names them first (the engine's factories for torch functions).
    doc = getattr(activation, "__doc__", None) or ""
    if doc.startswith(("`torch.nn.functional.relu`", "`torch.nn.functional.gelu`")):
        return True
    if isinstance(activation, layers.ReLU):
        return activation.max_value is None and not activation.negative_slope and not activation.threshold
    if isinstance(activation, layers.Activation):
        return activation.activation is keras.activations.gelu
    return isinstance(activation, PyTorchGELU)


def _t2k_boolean_mask(mask):
    """A PyTorch attention mask read as boolean (True = masked out): a float
    mask's non-zero entries."""
    if mask is None or keras.backend.standardize_dtype(mask.dtype) == "bool":
        return mask
    return ops.not_equal(mask, 0)


def _t2k_activation(activation):
    """A transformer layer's activation: PyTorch's "relu" / "gelu" (exact GELU,
    approximate=False) or a callable (a converted module or function)."""
    if activation == "relu":
        return ops.relu
    if activation == "gelu":
        return lambda x: ops.gelu(x, approximate=False)
    if isinstance(activation, str):
        raise ValueError(f'activation should be "relu" or "gelu", not {activation!r}')
    return activation


class _PyTorchTransformerLayer(layers.Layer):
    """What torch.nn.TransformerEncoderLayer and TransformerDecoderLayer share:
    the feed-forward block linear2(dropout(activation(linear1(x)))), LayerNorms
    norm1..norm{norms} without bias when bias is False, and PyTorch's sublayer
    names, so the state_dict loads as it is."""

    def __init__(self, d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                 batch_first, norm_first, bias, norms, **kwargs):
        super().__init__(**kwargs)
        self.d_model, self.nhead, self.dim_feedforward = d_model, nhead, dim_feedforward
        self.dropout_rate, self.activation, self.layer_norm_eps = dropout, activation, layer_norm_eps
        self.batch_first, self.norm_first, self.bias = batch_first, norm_first, bias
        self.self_attn = self._attention()
        self.linear1 = layers.Dense(dim_feedforward, use_bias=bias)
        self.linear2 = layers.Dense(d_model, use_bias=bias)
        self.dropout = layers.Dropout(dropout)
        for i in range(1, norms + 1):
            setattr(self, f"norm{i}", layers.LayerNormalization(epsilon=layer_norm_eps, center=bias))
            setattr(self, f"dropout{i}", layers.Dropout(dropout))
        self._activation = _t2k_activation(activation)

    def _attention(self):
        return PyTorchMultiheadAttention(self.d_model, self.nhead, dropout=self.dropout_rate,
                                         bias=self.bias, batch_first=self.batch_first)

    def _attention_block(self, attention, dropout, x, memory, attn_mask, key_padding_mask,
                         is_causal, training):
        x = attention(x, memory, memory, key_padding_mask=key_padding_mask, need_weights=False,
                      attn_mask=attn_mask, is_causal=is_causal, training=training)[0]
        return dropout(x, training=training)

    def _ff_block(self, x, dropout, training):
        hidden = self.dropout(self._activation(self.linear1(x)), training=training)
        return dropout(self.linear2(hidden), training=training)

    def get_config(self):
        config = super().get_config()
        config.update(d_model=self.d_model, nhead=self.nhead, dim_feedforward=self.dim_feedforward,
                      dropout=self.dropout_rate, activation=self.activation,
                      layer_norm_eps=self.layer_norm_eps, batch_first=self.batch_first,
                      norm_first=self.norm_first, bias=self.bias)
        return config


class PyTorchTransformerEncoderLayer(_PyTorchTransformerLayer):
    """torch.nn.TransformerEncoderLayer: self-attention and a feed-forward block,
    each added to its input, with LayerNorm after (or before, norm_first) each;
    sublayers self_attn, linear1, linear2, norm1, norm2. call(src, src_mask=None,
    src_key_padding_mask=None, is_causal=False) on (S, N, E), (N, S, E) with
    batch_first, or (S, E), with PyTorch's masks (PyTorchMultiheadAttention).
    In inference PyTorch takes a fast path (torch/nn/modules/transformer.py;
    under torch.no_grad) when batch_first, bias, a relu/gelu activation, an even
    nhead and a batched input: it reads float masks as boolean (any non-zero
    entry masked out), and so does this layer then."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True, **kwargs):
        super().__init__(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                         batch_first, norm_first, bias, norms=2, **kwargs)

    @property
    def fast_path(self):
        """Whether the configuration lets PyTorch take its inference fast path
        (with an eval-mode, batched input): batch_first, bias, a relu/gelu
        activation and an even nhead (TransformerEncoderLayer.forward)."""
        return (self.batch_first and self.bias and self.nhead % 2 == 0
                and _t2k_relu_or_gelu(self.activation))

    def call(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False, training=None):
        if not training and len(src.shape) == 3 and self.fast_path:
            # PyTorch's inference fast path (torch._transformer_encoder_layer_fwd)
            # reads a float mask as boolean: any non-zero entry is masked out.
            src_mask = _t2k_boolean_mask(src_mask)
            src_key_padding_mask = _t2k_boolean_mask(src_key_padding_mask)

        def sa_block(x):
            return self._attention_block(self.self_attn, self.dropout1, x, x, src_mask,
                                         src_key_padding_mask, is_causal, training)

        x = src
        if self.norm_first:
            x = x + sa_block(self.norm1(x))
            return x + self._ff_block(self.norm2(x), self.dropout2, training)
        x = self.norm1(x + sa_block(x))
        return self.norm2(x + self._ff_block(x, self.dropout2, training))


class PyTorchTransformerDecoderLayer(_PyTorchTransformerLayer):
    """torch.nn.TransformerDecoderLayer: self-attention, attention over the
    encoder's output (memory) and a feed-forward block, each added to its input,
    with LayerNorm after (or before, norm_first) each; sublayers self_attn,
    multihead_attn, linear1, linear2, norm1, norm2, norm3. call(tgt, memory,
    tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False)
    on (T, N, E) and (S, N, E) (batch_first: (N, T, E), (N, S, E)), PyTorch's
    masks (PyTorchMultiheadAttention)."""

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True, **kwargs):
        super().__init__(d_model, nhead, dim_feedforward, dropout, activation, layer_norm_eps,
                         batch_first, norm_first, bias, norms=3, **kwargs)
        self.multihead_attn = self._attention()

    def call(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
             memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False,
             training=None):
        def sa_block(x):
            return self._attention_block(self.self_attn, self.dropout1, x, x, tgt_mask,
                                         tgt_key_padding_mask, tgt_is_causal, training)

        def mha_block(x):
            return self._attention_block(self.multihead_attn, self.dropout2, x, memory,
                                         memory_mask, memory_key_padding_mask,
                                         memory_is_causal, training)

        x = tgt
        if self.norm_first:
            x = x + sa_block(self.norm1(x))
            x = x + mha_block(self.norm2(x))
            return x + self._ff_block(self.norm3(x), self.dropout3, training)
        x = self.norm1(x + sa_block(x))
        x = self.norm2(x + mha_block(x))
        return self.norm3(x + self._ff_block(x, self.dropout3, training))


def pytorch_deepcopy(value):
    """copy.deepcopy of PyTorch code: for a layer (an nn.Module), a layer of the
    same structure and configuration whose weights and sub-layers are its own;
    anything else as copy.deepcopy copies it.

    Keras deep-copies a layer by serialising it, which needs get_config on every
    class (a converted class has none), so a layer is copied attribute by
    attribute: its sub-layers, variables (new ones, of the same values) and
    containers are copied, each once (shared ones stay shared within the copy);
    modules, classes and functions are kept. The copy gets a name of its own, so
    that copies can sit side by side in a keras.Sequential.

    Raises ValueError for a built layer: PyTorch code copies modules before their
    first call, and a copy's weights are loaded from the state_dict afterwards.
    """
    if not isinstance(value, layers.Layer):
        import copy

        return copy.deepcopy(value)
    if value.built:
        raise ValueError(
            f"pytorch_deepcopy: the layer {value.name!r} is built; copy layers before "
            "their first call"
        )
    new = _t2k_deepcopy(value, {})
    new.name = f"{value.name}_copy_{keras.backend.get_uid(value.name + '_copy')}"
    return new


def _t2k_deepcopy(value, memo):
    import copy
    import types

    if id(value) in memo:
        return memo[id(value)]
    if isinstance(value, (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType)):
        return value
    if isinstance(value, types.MethodType):
        return types.MethodType(value.__func__, _t2k_deepcopy(value.__self__, memo))
    cls = type(value)
    if cls is tuple:
        return tuple(_t2k_deepcopy(v, memo) for v in value)
    keras_object = isinstance(value, layers.Layer) or cls.__module__.startswith("keras.")
    if cls not in (list, dict, set) and not (keras_object and hasattr(value, "__dict__")):
        return copy.deepcopy(value, memo)  # numbers, strings, numpy arrays, tf.Variables
    new = cls.__new__(cls)
    memo[id(value)] = new
    # Keras' tracked containers are list/dict/set subclasses whose own methods
    # track what is added: the items go in through the base class.
    if isinstance(value, list):
        list.extend(new, [_t2k_deepcopy(v, memo) for v in value])
    elif isinstance(value, dict):
        dict.update(new, {k: _t2k_deepcopy(v, memo) for k, v in value.items()})
    elif isinstance(value, set):
        set.update(new, [_t2k_deepcopy(v, memo) for v in value])
    fresh = dict(getattr(new, "__dict__", {}))
    for name, item in getattr(value, "__dict__", {}).items():
        if isinstance(item, types.FunctionType) and name in fresh:
            continue  # a Layer's __new__ wraps build() in a closure over the new layer
        new.__dict__[name] = _t2k_deepcopy(item, memo)
    return new


def _t2k_clones(layer, num_layers, **changes):
    """num_layers new layers configured as `layer` (PyTorch's _get_clones deep-
    copies the module; the weights are loaded afterwards), with `changes` to the
    configuration."""
    config = layer.get_config()
    config.pop("name", None)
    config.update(changes)
    return [type(layer).from_config(dict(config)) for _ in range(num_layers)]


class PyTorchTransformerEncoder(layers.Layer):
    """torch.nn.TransformerEncoder: num_layers copies of encoder_layer (as
    `layers.0`, `layers.1`, ... in the state_dict), then `norm` if given.
    call(src, mask_=None, src_key_padding_mask=None, is_causal=None): PyTorch's
    `mask` is `mask_`, as in converted classes (Keras fills a call parameter
    named `mask` itself; a converted `encoder(src, mask=m)` passes `mask_=m`).

    In inference, PyTorch (torch/nn/modules/transformer.py, under torch.no_grad
    or with no parameter requiring grad) runs the layers on a nested tensor that
    leaves the padded positions out, and pads the result with zeros before
    `norm`, when: enable_nested_tensor, the layer is a TransformerEncoderLayer
    with batch_first, not norm_first, bias, a relu/gelu activation and an even
    nhead; the input is batched; src_key_padding_mask is given, mask is not; and
    (mask_check) every sequence's kept positions come first. Then a float
    padding mask's non-zero entries are left out entirely. This layer computes
    the same: padded positions come out 0 (then `norm`), and the rest is as the
    padding mask says."""

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True, **kwargs):
        super().__init__(**kwargs)
        self.layers = _t2k_clones(encoder_layer, num_layers)
        self.num_layers, self.norm = num_layers, norm
        self.enable_nested_tensor, self.mask_check = enable_nested_tensor, mask_check
        self.supports_masking = True  # no Keras mask comes out (compute_mask)
        self.use_nested_tensor = (
            enable_nested_tensor and isinstance(encoder_layer, PyTorchTransformerEncoderLayer)
            and encoder_layer.fast_path and not encoder_layer.norm_first)

    def call(self, src, mask_=None, src_key_padding_mask=None, is_causal=None, training=None):
        padding, dropped = src_key_padding_mask, None
        if (self.use_nested_tensor and not training and len(src.shape) == 3
                and padding is not None and mask_ is None):
            padding, dropped = self._nested_padding(padding)
        output = src
        for layer in self.layers:
            output = layer(output, src_mask=mask_, src_key_padding_mask=padding,
                           is_causal=bool(is_causal), training=training)
        if dropped is not None:
            output = ops.where(dropped[..., None], ops.zeros_like(output), output)
        return output if self.norm is None else self.norm(output)

    def compute_mask(self, inputs, previous_mask):
        # PyTorch's masks are attention masks, not Keras timestep masks: they mark
        # nothing on the output.
        return None

    def _nested_padding(self, padding):
        """(the padding mask the layers see, the positions that come out 0) when
        PyTorch takes the nested-tensor path: each sequence keeps its first
        `count of unmasked entries` positions (a bool mask's False entries, a float
        mask's zeros); with mask_check only when those are exactly the unmasked
        entries, else the mask as given and no position dropped."""
        kept = ops.logical_not(_t2k_boolean_mask(padding))
        lengths = ops.sum(ops.cast(kept, "int32"), axis=1, keepdims=True)
        dropped = ops.arange(ops.shape(padding)[1]) >= lengths
        nested = dropped
        if keras.backend.standardize_dtype(padding.dtype) != "bool":
            nested = ops.cast(ops.where(dropped, float("-inf"), 0.0), padding.dtype)
        if not self.mask_check:
            return nested, dropped
        aligned = ops.all(ops.equal(dropped, ops.logical_not(kept)))
        return ops.where(aligned, nested, padding), ops.logical_and(dropped, aligned)

    def get_config(self):
        config = super().get_config()
        config.update(num_layers=self.num_layers, enable_nested_tensor=self.enable_nested_tensor,
                      mask_check=self.mask_check)
        return config


class PyTorchTransformerDecoder(layers.Layer):
    """torch.nn.TransformerDecoder: num_layers copies of decoder_layer (as
    `layers.0`, `layers.1`, ... in the state_dict), then `norm` if given.
    call(tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False).
    PyTorch's detection of a causal tgt_mask only chooses a kernel: the mask
    gives the same scores."""

    def __init__(self, decoder_layer, num_layers, norm=None, **kwargs):
        super().__init__(**kwargs)
        # PyTorch's TransformerDecoderLayer.__setstate__, which the deep copy runs,
        # sets `activation` to F.relu when the copied __dict__ has none: so it is
        # for a layer made with a module activation (nn.GELU(), kept in _modules),
        # whose copies compute ReLU (torch/nn/modules/transformer.py).
        changes = {}
        if isinstance(decoder_layer.activation, layers.Layer):
            changes["activation"] = "relu"
        self.layers = _t2k_clones(decoder_layer, num_layers, **changes)
        self.num_layers, self.norm = num_layers, norm

    def call(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
             memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False,
             training=None):
        output = tgt
        for layer in self.layers:
            output = layer(output, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask,
                           memory_key_padding_mask=memory_key_padding_mask,
                           tgt_is_causal=bool(tgt_is_causal), memory_is_causal=memory_is_causal,
                           training=training)
        return output if self.norm is None else self.norm(output)

    def get_config(self):
        config = super().get_config()
        config.update(num_layers=self.num_layers)
        return config


class PyTorchTransformer(layers.Layer):
    """torch.nn.Transformer: encoder (PyTorchTransformerEncoder with a final
    LayerNorm, or custom_encoder) and decoder (likewise), PyTorch's names.
    call(src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
    src_key_padding_mask=None, tgt_key_padding_mask=None,
    memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
    memory_is_causal=False) returns the decoder's output, (T, N, E) or (N, T, E)
    with batch_first."""

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation="relu", custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, **kwargs):
        super().__init__(**kwargs)
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        options = dict(dim_feedforward=dim_feedforward, dropout=dropout, activation=activation,
                       layer_norm_eps=layer_norm_eps, batch_first=batch_first,
                       norm_first=norm_first, bias=bias)

        def norm():
            return layers.LayerNormalization(epsilon=layer_norm_eps, center=bias)

        self.encoder = custom_encoder if custom_encoder is not None else PyTorchTransformerEncoder(
            PyTorchTransformerEncoderLayer(d_model, nhead, **options), num_encoder_layers, norm())
        self.decoder = custom_decoder if custom_decoder is not None else PyTorchTransformerDecoder(
            PyTorchTransformerDecoderLayer(d_model, nhead, **options), num_decoder_layers, norm())

    def call(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
             src_key_padding_mask=None, tgt_key_padding_mask=None, memory_key_padding_mask=None,
             src_is_causal=None, tgt_is_causal=None, memory_is_causal=False, training=None):
        memory = self.encoder(src, mask_=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal, training=training)
        return self.decoder(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                            tgt_key_padding_mask=tgt_key_padding_mask,
                            memory_key_padding_mask=memory_key_padding_mask,
                            tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal,
                            training=training)

    @staticmethod
    def generate_square_subsequent_mask(sz):
        """nn.Transformer.generate_square_subsequent_mask called on the module: (sz,
        sz) float, -inf above the diagonal, 0 elsewhere (the catalog's form for
        the class's call)."""
        return ops.where(ops.triu(ops.ones((sz, sz)), k=1) > 0, float("-inf"), 0.0)


def pytorch_linspace(start, end, steps, dtype="float32"):
    """torch.linspace for `steps` known only when the model runs (a size: a graph
    tensor where keras.ops.linspace needs a Python int): start + i * (end - start)
    / (steps - 1) for i in 0..steps-1 (PyTorch fills the second half from the end,
    equal within rounding)."""
    if isinstance(steps, int):
        return ops.linspace(start, end, steps, dtype=dtype)
    count = ops.cast(steps, "float32")
    step = (end - start) / ops.maximum(count - 1.0, 1.0)
    return ops.cast(start + ops.cast(ops.arange(steps), "float32") * step, dtype)


def pytorch_numel(inputs):
    """x.numel(): a Python int when every size is known when traced (as in
    PyTorch), else the number as a tensor."""
    if all(size is not None for size in inputs.shape):
        return int(np.prod(inputs.shape))
    return ops.size(inputs)


def pytorch_rms_norm(inputs, normalized_shape, weight=None, eps=None):
    """torch.nn.functional.rms_norm: x / sqrt(mean(x^2) + eps) over the last
    len(normalized_shape) axes, times `weight`; eps None is float32's machine
    epsilon, as in PyTorch."""
    axes = tuple(range(-len(_t2k_normalized_shape(normalized_shape)), 0))
    eps = 1.1920928955078125e-07 if eps is None else eps
    outputs = inputs * ops.rsqrt(ops.mean(ops.square(inputs), axis=axes, keepdims=True) + eps)
    return outputs * weight if weight is not None else outputs


class PyTorchRMSNorm(layers.Layer):
    """torch.nn.RMSNorm with PyTorch's `weight` of shape normalized_shape (see
    pytorch_rms_norm)."""

    def __init__(self, normalized_shape, eps=None, elementwise_affine=True, **kwargs):
        super().__init__(**kwargs)
        self.normalized_shape = _t2k_normalized_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self.weight = None
        if elementwise_affine:
            self.weight = self.add_weight(shape=self.normalized_shape, initializer="ones", name="weight")

    def call(self, inputs):
        return pytorch_rms_norm(inputs, self.normalized_shape, self.weight, self.eps)

    def get_config(self):
        config = super().get_config()
        config.update(normalized_shape=self.normalized_shape, eps=self.eps,
                      elementwise_affine=self.elementwise_affine)
        return config


class _PyTorchPooling(layers.Layer):
    """Max or average pooling over `rank` spatial axes with PyTorch's padding rules
    (see pytorch_pool)."""

    def __init__(self, rank, mode, pool_size, strides=None, padding=0, ceil_mode=False,
                 count_include_pad=True, data_format="channels_last", **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.mode = mode
        self.pool_size = _t2k_tuple(pool_size, rank)
        self.strides = _t2k_tuple(strides if strides is not None else pool_size, rank)
        self.padding = _t2k_tuple(padding, rank)
        self.ceil_mode = bool(ceil_mode)
        self.count_include_pad = bool(count_include_pad)
        self.data_format = data_format

    def call(self, inputs):
        return pytorch_pool(inputs, self.mode, self.pool_size, self.strides, self.padding,
                            self.ceil_mode, self.count_include_pad, self.data_format)

    def get_config(self):
        config = super().get_config()
        config.update(rank=self.rank, mode=self.mode, pool_size=self.pool_size,
                      strides=self.strides, padding=self.padding, ceil_mode=self.ceil_mode,
                      count_include_pad=self.count_include_pad, data_format=self.data_format)
        return config


class PyTorchMaxPooling1D(_PyTorchPooling):
    """torch.nn.MaxPool1d with padding and ceil_mode (see _PyTorchPooling)."""

    def __init__(self, pool_size, strides=None, padding=0, ceil_mode=False,
                 data_format="channels_last", **kwargs):
        kwargs.pop("rank", None), kwargs.pop("mode", None)
        super().__init__(1, "max", pool_size, strides, padding, ceil_mode, True, data_format,
                         **kwargs)


class PyTorchMaxPooling2D(_PyTorchPooling):
    """torch.nn.MaxPool2d with padding and ceil_mode (see _PyTorchPooling)."""

    def __init__(self, pool_size, strides=None, padding=0, ceil_mode=False,
                 data_format="channels_last", **kwargs):
        kwargs.pop("rank", None), kwargs.pop("mode", None)
        super().__init__(2, "max", pool_size, strides, padding, ceil_mode, True, data_format,
                         **kwargs)


class PyTorchAveragePooling1D(_PyTorchPooling):
    """torch.nn.AvgPool1d with padding, ceil_mode, count_include_pad (see _PyTorchPooling)."""

    def __init__(self, pool_size, strides=None, padding=0, ceil_mode=False, count_include_pad=True,
                 data_format="channels_last", **kwargs):
        kwargs.pop("rank", None), kwargs.pop("mode", None)
        super().__init__(1, "avg", pool_size, strides, padding, ceil_mode, count_include_pad,
                         data_format, **kwargs)


class PyTorchAveragePooling2D(_PyTorchPooling):
    """torch.nn.AvgPool2d with padding, ceil_mode, count_include_pad (see _PyTorchPooling)."""

    def __init__(self, pool_size, strides=None, padding=0, ceil_mode=False, count_include_pad=True,
                 data_format="channels_last", **kwargs):
        kwargs.pop("rank", None), kwargs.pop("mode", None)
        super().__init__(2, "avg", pool_size, strides, padding, ceil_mode, count_include_pad,
                         data_format, **kwargs)


def pytorch_adaptive_pool(inputs, mode, output_size, data_format="channels_last"):
    """PyTorch adaptive max ("max") or average ("avg") pooling of `inputs` to
    `output_size` (an int, or one per spatial axis; None keeps that axis).

    Output cell i of an axis of length L pools the bin [floor(i * L / n),
    ceil((i + 1) * L / n)) (P23), computed here from the static length, one axis
    at a time (a mean or max over a rectangle is one over each axis in turn).
    keras.ops.adaptive_*_pool agrees on these bins but fails when one axis
    pools to 1 and another does not (its window for that axis is longer than
    the axis), and takes no None.
    """
    rank = len(inputs.shape) - 2
    sizes = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * rank
    first = 1 if data_format == "channels_last" else 2
    reduce = ops.max if mode == "max" else ops.mean
    x = inputs
    for axis, n in zip(range(first, first + rank), sizes):
        length = x.shape[axis]
        if n is None or n == length:
            continue
        cells = []
        for i in range(n):
            start, end = (i * length) // n, -((-(i + 1) * length) // n)
            index = [slice(None)] * len(x.shape)
            index[axis] = slice(start, end)
            cells.append(reduce(x[tuple(index)], axis=axis, keepdims=True))
        x = ops.concatenate(cells, axis=axis) if n > 1 else cells[0]
    return x


class _PyTorchAdaptivePooling(layers.Layer):
    """Adaptive max or average pooling over `rank` spatial axes with PyTorch's bins
    (see pytorch_adaptive_pool)."""

    def __init__(self, rank, mode, output_size, data_format="channels_last", **kwargs):
        super().__init__(**kwargs)
        self.rank = rank
        self.mode = mode
        self.output_size = output_size
        self.data_format = data_format

    def call(self, inputs):
        return pytorch_adaptive_pool(inputs, self.mode, self.output_size, self.data_format)

    def get_config(self):
        config = super().get_config()
        config.update(rank=self.rank, mode=self.mode, output_size=self.output_size,
                      data_format=self.data_format)
        return config


class PyTorchAdaptiveAveragePooling2D(_PyTorchAdaptivePooling):
    """torch.nn.AdaptiveAvgPool2d with a None or 1 in output_size (see _PyTorchAdaptivePooling)."""

    def __init__(self, output_size, data_format="channels_last", **kwargs):
        kwargs.pop("rank", None), kwargs.pop("mode", None)
        super().__init__(2, "avg", output_size, data_format, **kwargs)


class PyTorchAdaptiveMaxPooling2D(_PyTorchAdaptivePooling):
    """torch.nn.AdaptiveMaxPool2d with a None or 1 in output_size (see _PyTorchAdaptivePooling)."""

    def __init__(self, output_size, data_format="channels_last", **kwargs):
        kwargs.pop("rank", None), kwargs.pop("mode", None)
        super().__init__(2, "max", output_size, data_format, **kwargs)


def _t2k_padding_row(rows, padding_idx):
    """A (rows, 1) boolean mask of row `padding_idx` (negative: from the end)."""
    return ops.expand_dims(ops.arange(rows) == padding_idx % rows, -1)


def pytorch_embedding(inputs, weight, padding_idx=None):
    """Rows of `weight` looked up by the integer ids `inputs` (torch.nn.functional.
    embedding). Row `padding_idx` (negative: from the end) gets no gradient, as in
    PyTorch (P28); its value is whatever the weight holds. Keras' mask_zero is a
    different feature (an implicit mask for later layers) and is not used."""
    ids = inputs if keras.backend.standardize_dtype(inputs.dtype) in ("int32", "int64") else ops.cast(inputs, "int32")
    if padding_idx is not None:
        weight = ops.where(_t2k_padding_row(weight.shape[0], padding_idx), ops.stop_gradient(weight), weight)
    return ops.take(weight, ids, axis=0)


class PyTorchEmbedding(layers.Embedding):
    """torch.nn.Embedding with `padding_idx`: keras.layers.Embedding's lookup, with
    that row zero when built and without gradient (pytorch_embedding)."""

    def __init__(self, input_dim, output_dim, padding_idx=None, **kwargs):
        super().__init__(input_dim, output_dim, **kwargs)
        self.padding_idx = padding_idx
        # The row is zeroed by the initializer: Keras may initialise variables after
        # build() returns, so an assign there could be overwritten.
        self._t2k_initializer = self.embeddings_initializer

        def zero_padding_row(shape, dtype=None):
            value = self._t2k_initializer(shape, dtype=dtype)
            return ops.where(_t2k_padding_row(shape[0], padding_idx), ops.zeros_like(value), value)

        self.embeddings_initializer = zero_padding_row

    def call(self, inputs):
        return pytorch_embedding(inputs, self.embeddings, self.padding_idx)

    def get_config(self):
        initializer = self.embeddings_initializer
        self.embeddings_initializer = self._t2k_initializer
        try:
            config = super().get_config()
        finally:
            self.embeddings_initializer = initializer
        config.update(padding_idx=self.padding_idx)
        return config


def pytorch_embedding_from_pretrained(embeddings, freeze=True, padding_idx=None):
    """nn.Embedding.from_pretrained(embeddings, freeze, padding_idx): an Embedding
    whose table starts as `embeddings` (num, dim) as it is (the padding row kept,
    as PyTorch keeps it), not trainable when `freeze`; load_torch_state_dict sets
    the table from the state_dict's `weight` as for any Embedding."""
    table = np.asarray(keras.ops.convert_to_numpy(embeddings), dtype="float32")
    initializer = keras.initializers.Constant(table)
    num, dim = table.shape
    if padding_idx is None:
        return layers.Embedding(num, dim, embeddings_initializer=initializer, trainable=not freeze)
    layer = PyTorchEmbedding(num, dim, padding_idx=padding_idx, trainable=not freeze)
    layer._t2k_initializer = layer.embeddings_initializer = initializer
    return layer


def pytorch_embedding_bag(inputs, weight, offsets=None, mode="mean", per_sample_weights=None,
                          include_last_offset=False, padding_idx=None):
    """torch.nn.functional.embedding_bag: the sum, mean or max of each bag of rows
    of `weight` (num_embeddings, embedding_dim); returns (B, embedding_dim).

    Bags (nn.EmbeddingBag docs): `inputs` (B, N) is B bags of N ids, `offsets`
    must be None; `inputs` (N,) is the bags one after another, bag i from
    offsets[i] to offsets[i + 1] (the last one to N), or, with
    `include_last_offset`, B + 1 offsets whose last ends bag B - 1 and should
    be N (pytorch/pytorch#52851: for a smaller one PyTorch's CPU kernel stops a
    "sum" there but divides a "mean" by the count to N and takes a "max" to N;
    here every mode stops there). PyTorch raises when offsets[0] != 0 or an
    offset is past N; those are data, not checked here. `per_sample_weights`
    (the shape of `inputs`; mode "sum" only, as in PyTorch) scales each row.
    Ids equal to `padding_idx` (negative: from the end, as PyTorch's C++ kernel
    takes it) are left out of their bag: not summed, not counted by "mean", not
    candidates for "max", so row padding_idx gets no gradient. An empty bag, or
    one of padding ids only, is zeros in every mode.

    The 1-D form reduces segments: position j is in bag (number of offsets <= j)
    - 1 (searchsorted); positions in no bag go to one extra segment, dropped.
    segment_max gives -inf or the lowest value for an empty segment; the bag's
    count replaces that by 0. Shapes decide the path, so it traces once under
    tf.function or jit; the number of bags is static when offsets' shape is.
    """
    if mode not in ("sum", "mean", "max"):
        raise ValueError(f"embedding_bag: mode has to be one of sum, mean or max, got {mode!r}")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights is only supported for "
                                  f"mode='sum' (got mode={mode!r}), as in PyTorch")
    ids = inputs if keras.backend.standardize_dtype(inputs.dtype) in ("int32", "int64") else ops.cast(inputs, "int32")
    rows = ops.take(weight, ids, axis=0)
    if per_sample_weights is not None:
        rows = rows * ops.expand_dims(ops.cast(per_sample_weights, rows.dtype), -1)
    keep = None if padding_idx is None else ops.not_equal(ids, padding_idx % weight.shape[0])
    if len(ids.shape) == 2:
        if offsets is not None:
            raise ValueError("embedding_bag: if input is 2D, then offsets has to be None")
        if keep is None:  # every id counts: a plain reduction over each row
            return {"sum": ops.sum, "mean": ops.mean, "max": ops.max}[mode](rows, axis=1)
        mask = ops.expand_dims(keep, -1)
        count = ops.sum(ops.cast(mask, rows.dtype), axis=1)
        if mode == "max":
            total = ops.max(ops.where(mask, rows, float("-inf")), axis=1)
        else:
            total = ops.sum(ops.where(mask, rows, ops.zeros_like(rows)), axis=1)
    elif len(ids.shape) == 1:
        if offsets is None:
            raise ValueError("embedding_bag: offsets has to be a 1D Tensor but got None")
        offsets = ops.cast(offsets, "int32")
        bags = offsets.shape[0] if offsets.shape[0] is not None else ops.shape(offsets)[0]
        if include_last_offset:
            bags = bags - 1
        positions = ops.arange(ops.shape(ids)[0], dtype="int32")
        segments = ops.cast(ops.searchsorted(offsets, positions, side="right"), "int32") - 1
        in_bag = segments < bags
        if keep is not None:
            in_bag = ops.logical_and(in_bag, keep)
        segments = ops.where(in_bag, segments, bags)
        count = ops.segment_sum(ops.cast(in_bag, rows.dtype), segments, num_segments=bags + 1)
        count = ops.expand_dims(count[:bags], -1)
        reduce = ops.segment_max if mode == "max" else ops.segment_sum
        total = reduce(rows, segments, num_segments=bags + 1)[:bags]
    else:
        raise ValueError(f"embedding_bag: input has to be 1D or 2D, got shape {ids.shape}")
    if mode == "mean":
        return total / ops.maximum(count, 1)
    if mode == "max":
        return ops.where(count > 0, total, ops.zeros_like(total))
    return total


class PyTorchEmbeddingBag(layers.Layer):
    """torch.nn.EmbeddingBag: PyTorch's `weight` (num_embeddings, embedding_dim)
    under its name, so load_torch_state_dict copies it as it is; drawn from
    N(0, 1) with row `padding_idx` zero, as PyTorch makes it (P28).

    call(inputs, offsets=None, per_sample_weights=None) -> (B, embedding_dim):
    `inputs` (B, N) ids, or (N,) ids with `offsets` (B,) or, with
    `include_last_offset`, (B + 1,); see pytorch_embedding_bag for the bags,
    `mode` ("sum", "mean" or "max"), the padding rule and empty bags.
    """

    def __init__(self, num_embeddings, embedding_dim, mode="mean", include_last_offset=False,
                 padding_idx=None, **kwargs):
        super().__init__(**kwargs)
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode has to be one of sum, mean or max, got {mode!r}")
        if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError("EmbeddingBag: padding_idx must be within num_embeddings")
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.mode, self.include_last_offset = mode, include_last_offset
        # Stored from 0 up, as nn.EmbeddingBag stores it.
        self.padding_idx = None if padding_idx is None else padding_idx % num_embeddings
        normal = keras.initializers.RandomNormal(0.0, 1.0)

        def initializer(shape, dtype=None):
            value = normal(shape, dtype=dtype)
            if padding_idx is None:
                return value
            return ops.where(_t2k_padding_row(shape[0], padding_idx), ops.zeros_like(value), value)

        self.weight = self.add_weight(shape=(num_embeddings, embedding_dim), initializer=initializer,
                                      name="weight")

    def call(self, inputs, offsets=None, per_sample_weights=None):
        return pytorch_embedding_bag(inputs, self.weight, offsets, self.mode, per_sample_weights,
                                     self.include_last_offset, self.padding_idx)

    def get_config(self):
        config = super().get_config()
        config.update(num_embeddings=self.num_embeddings, embedding_dim=self.embedding_dim,
                      mode=self.mode, include_last_offset=self.include_last_offset,
                      padding_idx=self.padding_idx)
        return config


class PyTorchTiedDense(layers.Layer):
    """An nn.Linear whose weight is an nn.Embedding's (weight tying): y = x E^T + b
    with E the embedding's (num_embeddings, embedding_dim) table, so one variable
    serves both layers, in training too. load_torch_params takes the Linear's
    `weight` (the same tensor as the embedding's in the state_dict) and `bias`."""

    def __init__(self, embedding, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.embedding, self.use_bias = embedding, use_bias

    def build(self, input_shape):
        if not self.embedding.built:
            self.embedding.build()
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.embedding.input_dim,), initializer="zeros",
                                        name="bias")

    def call(self, inputs):
        outputs = ops.matmul(inputs, ops.transpose(self.embedding.embeddings))
        return outputs + self.bias if self.use_bias else outputs

    def load_torch_params(self, params):
        for name, value in params.items():
            variable = {"weight": self.embedding.embeddings, "bias": getattr(self, "bias", None)}.get(name)
            if variable is None or tuple(variable.shape) != value.shape:
                raise ValueError(f"load_torch_state_dict: {name!r} of shape {value.shape} does not "
                                 f"fit the tied Linear {self.name!r}")
            variable.assign(value)


def _t2k_child(parent, name):
    # A ModuleDict is a dict of layers (or a PyTorchModuleDict subclass): by key.
    return parent[name] if isinstance(parent, (dict, PyTorchModuleDict)) else getattr(parent, name)


def pytorch_weight_norm(layer, dim=0):
    """torch.nn.utils.weight_norm / parametrizations.weight_norm(module, dim=dim):
    PyTorch keeps the weight as g (weight_g, or parametrizations.weight.original0)
    and v (weight_v, original1), weight = g * v / ||v||, the norm over every axis of
    v but `dim` (over all of them when dim is None). The Keras layer holds the
    weight itself: load_torch_state_dict computes it from g and v. Returns `layer`."""
    # A module made of several Keras layers (ZeroPadding1D + Conv1D for a Conv1d's
    # asymmetric padding): the one that receives the weight is marked.
    for part in layer.layers if isinstance(layer, keras.Sequential) else [layer]:
        part._pytorch_weight_norm_dim = -1 if dim is None else dim
    return layer


def pytorch_tie_weights(owner, target, source):
    """PyTorch weight tying, `self.<target> = self.<source>` in __init__ for two
    parameter paths ("lm_head.weight", "wte.weight"): one variable serves both
    modules afterwards. An nn.Linear's weight (out, in) and an nn.Embedding's
    weight (num, dim) either way round: the Linear (a Dense) becomes a
    PyTorchTiedDense reading the Embedding's table transposed. Two nn.Embeddings
    of one size: the target's module is the source's. Raises ValueError for other
    pairs."""
    ends = []  # (parent, name, layer, parameter) of each side
    for path in (target, source):
        *parents, name, parameter = path.split(".")
        parent = owner
        for part in parents:
            parent = _t2k_child(parent, part)
        ends.append((parent, name, _t2k_child(parent, name), parameter))
    dense = [end for end in ends if isinstance(end[2], layers.Dense)]
    embedding = [end for end in ends if isinstance(end[2], layers.Embedding)]
    if len(embedding) == 2 and {end[3] for end in ends} == {"weight"}:
        # Two Embeddings sharing their table (an encoder's and a decoder's): the
        # weight is all an Embedding has, so the target module is the source one.
        (parent, name, old, _), (_, _, kept, _) = ends
        if (old.input_dim, old.output_dim, getattr(old, "padding_idx", None)) != (
                kept.input_dim, kept.output_dim, getattr(kept, "padding_idx", None)):
            raise ValueError(f"weight tying `{target} = {source}`: the Embeddings differ in size "
                             "or padding_idx")
        _t2k_replace_layer(owner, parent, name, old, kept)
        return
    if len(dense) != 1 or len(embedding) != 1 or {end[3] for end in ends} != {"weight"}:
        raise ValueError(f"weight tying `{target} = {source}` is supported between an nn.Linear's "
                         "and an nn.Embedding's weight, or two nn.Embeddings', only")
    parent, name, layer, _ = dense[0]
    tied = PyTorchTiedDense(embedding[0][2], use_bias=layer.use_bias, name=layer.name)
    _t2k_replace_layer(owner, parent, name, layer, tied)


def _t2k_replace_layer(owner, parent, name, old, new):
    """`parent.<name>` (or `parent[name]` of a dict) becomes `new`. The replaced
    layer is no sublayer any more: Keras' trackers (which an attribute assignment
    only adds to) would keep it, unbuilt, and Keras would warn of "unbuilt state"
    when the model is built."""
    if isinstance(parent, (dict, PyTorchModuleDict)):
        parent[name] = new
    else:
        setattr(parent, name, new)
    for sublayer in owner._flatten_layers(include_self=True):
        tracker = getattr(sublayer, "_tracker", None)
        if tracker is not None:
            tracker.untrack(old)


def pytorch_untrack(owner, name):
    """Before `owner.<name>` is assigned again in a constructor (a subclass
    replacing a module its base class made, `self.h = nn.ModuleList(...)` after
    `super().__init__()`): Keras' trackers only ever add what an attribute
    assignment holds, so the old value's layers and variables (buffers made at
    construction) would stay in `owner.weights`. They are untracked here, the
    layers of lists and dicts included. Nothing happens when `name` is unset."""
    old = getattr(owner, name, None)
    tracker = getattr(owner, "_tracker", None)
    if old is None or tracker is None:
        return
    stack = [old]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, (list, tuple)):
            stack.extend(value)
        else:
            tracker.untrack(value)
    tracker.untrack(old)


class PyTorchGELU(layers.Layer):
    """torch.nn.GELU(approximate="tanh"): keras.ops.gelu with approximate=True (P37)."""

    def __init__(self, approximate=True, **kwargs):
        super().__init__(**kwargs)
        self.approximate = approximate

    def call(self, inputs):
        return ops.gelu(inputs, approximate=self.approximate)

    def get_config(self):
        return {**super().get_config(), "approximate": self.approximate}


def pytorch_softplus(inputs, beta=1.0, threshold=20.0):
    """torch.nn.functional.softplus: log(1 + exp(beta * x)) / beta, and x itself
    where beta * x > threshold."""
    scaled = inputs * beta
    return ops.where(scaled > threshold, inputs, ops.softplus(scaled) / beta)


class PyTorchSoftplus(layers.Layer):
    """torch.nn.Softplus(beta, threshold): pytorch_softplus."""

    def __init__(self, beta=1.0, threshold=20.0, **kwargs):
        super().__init__(**kwargs)
        self.beta, self.threshold = beta, threshold

    def call(self, inputs):
        return pytorch_softplus(inputs, self.beta, self.threshold)

    def get_config(self):
        return {**super().get_config(), "beta": self.beta, "threshold": self.threshold}


class PyTorchGLU(layers.Layer):
    """torch.nn.GLU(dim): the first half of the input along `axis` times the
    sigmoid of the second (keras.ops.glu)."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs):
        return ops.glu(inputs, axis=self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


def pytorch_stochastic_depth(inputs, p, mode, training=None, seed=None):
    """torchvision.ops.stochastic_depth: in training, zeroes each row ("row") or the
    whole batch ("batch") with probability `p` and scales the rest by 1 / (1 - p);
    the identity otherwise."""
    if mode not in ("batch", "row"):
        raise ValueError(f"mode has to be either 'batch' or 'row', but got {mode}")
    if not training or p == 0.0:
        return inputs
    survival_rate = 1.0 - p
    rank = len(inputs.shape)
    shape = (ops.shape(inputs)[0],) + (1,) * (rank - 1) if mode == "row" else (1,) * rank
    noise = ops.cast(keras.random.uniform(shape, seed=seed) < survival_rate, inputs.dtype)
    if survival_rate > 0.0:
        noise = noise / survival_rate
    return inputs * noise


class PyTorchStochasticDepth(layers.Layer):
    """torchvision.ops.StochasticDepth(p, mode) (see pytorch_stochastic_depth)."""

    def __init__(self, p, mode, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.p = p
        self.mode = mode
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        return pytorch_stochastic_depth(inputs, self.p, self.mode, training, self.seed_generator)

    def get_config(self):
        return {**super().get_config(), "p": self.p, "mode": self.mode}


def pytorch_named(layer, name):
    """Gives `layer` its PyTorch submodule name (`add_module(name, m)` in an
    nn.Sequential): load_torch_state_dict finds a Sequential's layers by it."""
    layer.name = str(name)
    return layer


def pytorch_channels_first(x):
    """An input of a model converted with --io-layout keras that it uses in
    PyTorch's axis order: an image-like tensor (3 to 5 axes) comes in
    channels-last and has its last axis moved to axis 1; others are unchanged."""
    return ops.moveaxis(x, -1, 1) if 3 <= len(x.shape) <= 5 else x


def pytorch_channels_last(x):
    """An output of a model converted with --io-layout keras computed in PyTorch's
    axis order: an image-like tensor (3 to 5 axes) goes out channels-last (axis 1
    moved last), and so does each one in a tuple, list or dict of outputs; anything
    else is unchanged."""
    if isinstance(x, (tuple, list)):
        return type(x)(pytorch_channels_last(v) for v in x)
    if isinstance(x, dict):
        return {k: pytorch_channels_last(v) for k, v in x.items()}
    if x is None or not hasattr(x, "shape"):
        return x
    return ops.moveaxis(x, 1, -1) if 3 <= len(x.shape) <= 5 else x


def pytorch_flattened_input(layer, spatial_size):
    """Marks ``layer`` (a ``Dense``) as reading a channels-last flatten: its input
    (N, H, W, C) flattened in that order, where PyTorch flattens (N, C, H, W) as
    (C, H, W); ``spatial_size`` is H * W, known at conversion time.
    load_torch_state_dict permutes the PyTorch weight's input columns to match, so
    no transpose runs before the flatten."""
    layer._pytorch_flatten_spatial_size = int(spatial_size)
    return layer


def pytorch_named_layers(modules):
    """The layers of nn.Sequential(OrderedDict(...)) in order, each named by its key."""
    return [pytorch_named(layer, name) for name, layer in modules.items()]


class PyTorchModuleDict(layers.Layer):
    """A Keras layer with torch.nn.ModuleDict's interface, for ModuleDict subclasses.

    Layers added with add_module(name, layer) or d[name] = layer are attributes
    (so Keras tracks their weights and load_torch_state_dict finds them under
    PyTorch's names) and iterate in insertion order, as in PyTorch.
    """

    def __init__(self, modules=None, **kwargs):
        super().__init__(**kwargs)
        self._module_names = []
        for name, module in dict(modules or {}).items():
            self.add_module(name, module)

    def add_module(self, name, module):
        if name not in self._module_names:
            self._module_names.append(name)
        if isinstance(module, layers.Layer):
            # PyTorch's name; Keras' default from a class `_Name` is no valid scope name.
            module.name = str(name)
        setattr(self, name, module)

    def __setitem__(self, name, module):
        self.add_module(name, module)

    def __getitem__(self, name):
        return getattr(self, name)

    def __len__(self):
        return len(self._module_names)

    def __iter__(self):
        return iter(list(self._module_names))

    def keys(self):
        return list(self._module_names)

    def values(self):
        return [getattr(self, name) for name in self._module_names]

    def items(self):
        return [(name, getattr(self, name)) for name in self._module_names]


def pytorch_advanced_index(x, indices):
    """x[i0, i1, ...] for integer index tensors `indices` of x's leading axes
    (PyTorch's advanced indexing, the remaining axes taken whole): the indices
    broadcast together to a shape S, and the result is S + x.shape[k:]. A negative
    index counts from the end of its axis, as in PyTorch."""
    shape = ops.shape(x)
    flat = None
    for axis, index in enumerate(indices):
        index = ops.cast(index, "int32")
        index = ops.where(index < 0, index + shape[axis], index)
        flat = index if flat is None else flat * shape[axis] + index
    rows = ops.reshape(x, (-1,) + tuple(shape[len(indices):]))
    return ops.take(rows, flat, axis=0)


def pytorch_size(size):
    """A PyTorch size given as `*size`: torch.ones(2, 3), torch.ones((2, 3)) and
    torch.ones(n) alike."""
    if not isinstance(size, (tuple, list)):
        return (size,)
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        return tuple(size[0])
    return tuple(size)


def pytorch_expand(x, size):
    """x.expand(*size): broadcast to `size`, where -1 keeps the size of that axis
    of x (counted from the end; new leading axes may not be -1)."""
    offset = len(size) - len(x.shape)
    # A size read from a shape may be a symbolic tensor (an unknown batch size):
    # only a Python -1 keeps an axis.
    shape = [ops.shape(x)[i - offset] if isinstance(n, int) and n == -1 else n for i, n in enumerate(size)]
    return ops.broadcast_to(x, shape)


def pytorch_assert(condition, message):
    """torch._assert: raises AssertionError(message) when `condition` is a Python
    value that is false (sizes are Python ints when the model is built or traced
    with static shapes); a tensor condition is not checked."""
    if isinstance(condition, (bool, np.bool_)) and not condition:
        raise AssertionError(message)


def pytorch_parameter(layer, value, requires_grad=True, channels_last_rank=None):
    """`torch.nn.Parameter(value)` assigned to an attribute of `layer`: a Keras weight
    of `layer` with value's shape, initialised to value, trainable when
    `requires_grad`. load_torch_state_dict finds it under the attribute's name.

    With `channels_last_rank` r, the parameter only ever scales or shifts
    channels-last activations of r axes (ConvNeXt's layer scale, PyTorch shape
    (C, 1, 1)): it is stored as it broadcasts against them, (1, 1, 1, C) for r = 4
    (_t2k_channels_last_broadcast), and load_torch_state_dict stores PyTorch's
    value the same way."""
    # Integer and boolean buffers keep their dtype (Swin's relative position
    # index is int64); floating ones are float32, PyTorch's default dtype.
    value = ops.convert_to_tensor(value)
    value_dtype = keras.backend.standardize_dtype(value.dtype)
    if not (value_dtype.startswith(("int", "uint")) or value_dtype == "bool"):
        value_dtype = "float32"
        value = ops.cast(value, value_dtype)
    torch_shape = tuple(value.shape)
    if channels_last_rank is not None:
        value = ops.convert_to_tensor(_t2k_channels_last_broadcast(ops.convert_to_numpy(value), channels_last_rank))
    variable = layer.add_weight(
        shape=tuple(value.shape),
        initializer=lambda shape, dtype=None: ops.cast(value, dtype or value_dtype),
        dtype=value_dtype,
        trainable=bool(requires_grad),
    )
    if channels_last_rank is not None:
        variable._pytorch_load_transform = lambda v, shape: _t2k_channels_last_broadcast(v, channels_last_rank)
        variable._pytorch_shape = torch_shape
    return variable


def pytorch_parameter_value(variable):
    """A parameter stored channels-last (pytorch_parameter with
    `channels_last_rank`) in PyTorch's shape and axis order, for a use that needs
    that order."""
    return ops.reshape(ops.moveaxis(variable, -1, 1), variable._pytorch_shape)


def _t2k_channels_last_broadcast(value, rank):
    """A PyTorch-order array that broadcasts against activations of `rank` axes
    (N, C, *spatial), stored for their channels-last form (N, *spatial, C): leading
    axes of size 1 up to `rank`, then axis 1 (the channel axis) moved last."""
    value = np.asarray(value)
    if value.ndim > rank:
        raise ValueError(f"a parameter of shape {value.shape} cannot broadcast against {rank} axes")
    value = value.reshape((1,) * (rank - value.ndim) + value.shape)
    return np.moveaxis(value, 1, -1)


def pytorch_setitem(x, index, value):
    """PyTorch's in-place `x[index] = value`, as a new tensor (Keras tensors are
    immutable; pitfalls P48). `index` is what the subscript holds, in PyTorch axis
    order: ints, slices, Ellipsis and None (`np.s_[:, 0]`), or a boolean mask
    tensor over x's leading axes. `value` broadcasts to the part selected, as in
    PyTorch; with a mask it is a scalar."""
    x = ops.convert_to_tensor(x)
    value = ops.cast(value, x.dtype)
    if hasattr(index, "dtype") and keras.backend.standardize_dtype(index.dtype) == "bool":
        mask = ops.convert_to_tensor(index)
        if len(value.shape) != 0:
            raise ValueError(
                "pytorch_setitem: `x[mask] = value` with a non-scalar value selects a "
                "data-dependent number of elements; only a scalar value is supported"
            )
        mask = ops.reshape(mask, tuple(ops.shape(mask)) + (1,) * (len(x.shape) - len(mask.shape)))
        return ops.where(mask, value, x)
    # The flat positions of the selected elements, then one scatter.
    positions = ops.reshape(ops.arange(ops.size(x)), ops.shape(x))[index]
    updates = ops.broadcast_to(value, ops.shape(positions))
    flat = ops.scatter_update(
        ops.reshape(x, (-1,)), ops.reshape(positions, (-1, 1)), ops.reshape(updates, (-1,))
    )
    return ops.reshape(flat, ops.shape(x))


class PyTorchLayerNorm(layers.Layer):
    """torch.nn.LayerNorm with PyTorch's attributes (`normalized_shape`, `eps`,
    `weight`, `bias`), the base of converted classes that subclass nn.LayerNorm and
    read them (torchvision's LayerNorm2d). Normalises over the last
    len(normalized_shape) axes (see pytorch_layer_norm)."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, device=None,
                 dtype=None, **kwargs):
        super().__init__(**kwargs)
        self.normalized_shape = _t2k_normalized_shape(normalized_shape)
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self.weight = None
        self.bias = None
        if elementwise_affine:
            self.weight = self.add_weight(shape=self.normalized_shape, initializer="ones", name="weight")
            if bias:
                self.bias = self.add_weight(shape=self.normalized_shape, initializer="zeros", name="bias")

    def call(self, inputs):
        return pytorch_layer_norm(inputs, self.normalized_shape, self.weight, self.bias, self.eps)


def pytorch_flatten(inputs, start_dim=0, end_dim=-1):
    """torch.flatten: axes start_dim..end_dim (PyTorch order) merged into one, of
    their sizes' product where they are known (a compiled step's batch size is
    not: a Dense after a flatten of the batch's items is then built from a
    known size, as after keras.layers.Flatten), else -1."""
    rank = len(inputs.shape)
    start, end = start_dim % rank, end_dim % rank
    shape = ops.shape(inputs)
    merged = shape[start:end + 1]
    size = int(np.prod(merged)) if all(isinstance(d, int) for d in merged) else -1
    return ops.reshape(inputs, tuple(shape[:start]) + (size,) + tuple(shape[end + 1:]))


def pytorch_pad(inputs, pad, mode="constant", value=None):
    """torch.nn.functional.pad: `pad` lists (before, after) pairs from the last axis
    backwards; "constant" fills with `value` (0 when None), "reflect" mirrors
    without repeating the edge (numpy's "reflect"), "replicate" repeats the edge
    value, "circular" wraps around. Negative padding (cropping) is not supported."""
    if any(p < 0 for p in pad):
        raise ValueError(f"pytorch_pad: negative padding {pad} (cropping) is not supported")
    rank = len(inputs.shape)
    if mode in ("replicate", "circular"):
        x = inputs
        for i in range(len(pad) // 2):
            x = _t2k_pad_axis(x, rank - 1 - i, pad[2 * i], pad[2 * i + 1], mode)
        return x
    widths = [[0, 0] for _ in range(rank)]
    for i in range(len(pad) // 2):
        widths[rank - 1 - i] = [pad[2 * i], pad[2 * i + 1]]
    if mode == "constant":
        return ops.pad(inputs, widths, constant_values=0 if value is None else value)
    return ops.pad(inputs, widths, mode=mode)


class _PyTorchElementwise(layers.Layer):
    """An element-wise PyTorch activation with its parameters (see subclasses)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def get_config(self):
        return {**super().get_config(), **self._params()}

    def _params(self):
        return {}


class PyTorchCELU(_PyTorchElementwise):
    """torch.nn.CELU(alpha): max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = alpha

    def call(self, inputs):
        return ops.maximum(inputs, 0.0) + ops.minimum(
            self.alpha * (ops.exp(inputs / self.alpha) - 1.0), 0.0)

    def _params(self):
        return {"alpha": self.alpha}


class PyTorchHardtanh(_PyTorchElementwise):
    """torch.nn.Hardtanh(min_val, max_val): x clipped to [min_val, max_val]."""

    def __init__(self, min_val=-1.0, max_val=1.0, **kwargs):
        super().__init__(**kwargs)
        self.min_val, self.max_val = min_val, max_val

    def call(self, inputs):
        return ops.clip(inputs, self.min_val, self.max_val)

    def _params(self):
        return {"min_val": self.min_val, "max_val": self.max_val}


class PyTorchTanhshrink(_PyTorchElementwise):
    """torch.nn.Tanhshrink: x - tanh(x)."""

    def call(self, inputs):
        return inputs - ops.tanh(inputs)


class PyTorchThreshold(_PyTorchElementwise):
    """torch.nn.Threshold(threshold, value): x where x > threshold, else value."""

    def __init__(self, threshold, value, **kwargs):
        super().__init__(**kwargs)
        self.threshold, self.value = threshold, value

    def call(self, inputs):
        return ops.where(inputs > self.threshold, inputs, ops.cast(self.value, inputs.dtype))

    def _params(self):
        return {"threshold": self.threshold, "value": self.value}


class PyTorchLogSoftmax(_PyTorchElementwise):
    """torch.nn.LogSoftmax(dim): keras.ops.log_softmax along `axis`."""

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def call(self, inputs):
        return ops.log_softmax(inputs, axis=self.axis)

    def _params(self):
        return {"axis": self.axis}


class PyTorchPReLU(layers.Layer):
    """torch.nn.PReLU(num_parameters, init) on PyTorch-order input: one slope, or
    one per channel (axis 1), in `weight` as in the state_dict:
    max(0, x) + weight * min(0, x)."""

    def __init__(self, num_parameters=1, init=0.25, **kwargs):
        super().__init__(**kwargs)
        self.num_parameters, self.init = num_parameters, init
        self.weight = self.add_weight(shape=(num_parameters,),
                                      initializer=keras.initializers.Constant(init), name="weight")

    def call(self, inputs):
        weight = self.weight
        if self.num_parameters > 1 and len(inputs.shape) > 1:
            weight = ops.reshape(weight, (1, -1) + (1,) * (len(inputs.shape) - 2))
        return ops.maximum(inputs, 0.0) + weight * ops.minimum(inputs, 0.0)

    def get_config(self):
        return {**super().get_config(), "num_parameters": self.num_parameters, "init": self.init}


class PyTorchUnflatten(layers.Layer):
    """torch.nn.Unflatten(dim, unflattened_size) on PyTorch-order input."""

    def __init__(self, dim, unflattened_size, **kwargs):
        super().__init__(**kwargs)
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def call(self, inputs):
        shape = ops.shape(inputs)
        dim = self.dim % len(inputs.shape)
        return ops.reshape(inputs, tuple(shape[:dim]) + self.unflattened_size + tuple(shape[dim + 1:]))

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "unflattened_size": self.unflattened_size}


class PyTorchPixelShuffle(layers.Layer):
    """torch.nn.PixelShuffle(r) on NCHW input: (N, C*r*r, H, W) -> (N, C, H*r, W*r),
    channel c*r*r + i*r + j going to pixel (h*r + i, w*r + j)."""

    def __init__(self, upscale_factor, **kwargs):
        super().__init__(**kwargs)
        self.upscale_factor = upscale_factor

    def call(self, inputs):
        r = self.upscale_factor
        n, c, h, w = ops.shape(inputs)
        x = ops.reshape(inputs, (n, c // (r * r), r, r, h, w))
        x = ops.transpose(x, (0, 1, 4, 2, 5, 3))
        return ops.reshape(x, (n, c // (r * r), h * r, w * r))

    def get_config(self):
        return {**super().get_config(), "upscale_factor": self.upscale_factor}


class PyTorchPixelUnshuffle(layers.Layer):
    """torch.nn.PixelUnshuffle(r) on NCHW input: the inverse of PixelShuffle."""

    def __init__(self, downscale_factor, **kwargs):
        super().__init__(**kwargs)
        self.downscale_factor = downscale_factor

    def call(self, inputs):
        r = self.downscale_factor
        n, c, h, w = ops.shape(inputs)
        x = ops.reshape(inputs, (n, c, h // r, r, w // r, r))
        x = ops.transpose(x, (0, 1, 3, 5, 2, 4))
        return ops.reshape(x, (n, c * r * r, h // r, w // r))

    def get_config(self):
        return {**super().get_config(), "downscale_factor": self.downscale_factor}


class PyTorchChannelShuffle(layers.Layer):
    """torch.nn.ChannelShuffle(groups) on PyTorch-order input: channels viewed as
    (groups, C / groups), transposed, flattened back."""

    def __init__(self, groups, **kwargs):
        super().__init__(**kwargs)
        self.groups = groups

    def call(self, inputs):
        shape = ops.shape(inputs)
        c = shape[1]
        x = ops.reshape(inputs, (shape[0], self.groups, c // self.groups) + tuple(shape[2:]))
        x = ops.swapaxes(x, 1, 2)
        return ops.reshape(x, shape)

    def get_config(self):
        return {**super().get_config(), "groups": self.groups}


def _t2k_pad_axis(x, axis, before, after, mode):
    """`x` padded on `axis` by `before` and `after` values as PyTorch's padding
    modes make them: "reflect" mirrors without repeating the edge, "replicate"
    repeats the edge value, "circular" wraps around (the last `before` values go
    first, the first `after` values last). Sizes may be unknown until run time."""
    if not before and not after:
        return x
    if mode == "reflect":
        widths = [[0, 0] for _ in x.shape]
        widths[axis] = [before, after]
        return ops.pad(x, widths, mode="reflect")

    def part(start, stop):
        index = [slice(None)] * len(x.shape)
        index[axis] = slice(start, stop)
        return x[tuple(index)]

    if mode == "replicate":
        head = ops.repeat(part(0, 1), before, axis=axis)
        tail = ops.repeat(part(-1, None), after, axis=axis)
    elif mode == "circular":
        head, tail = part(-before, None), part(0, after)
    else:
        raise ValueError(f"padding mode {mode!r} is not one of reflect, replicate, circular")
    parts = ([head] if before else []) + [x] + ([tail] if after else [])
    return ops.concatenate(parts, axis=axis)


class PyTorchConvPadding(layers.Layer):
    """The padding of a torch.nn.Conv1d/2d/3d whose padding_mode is "reflect",
    "replicate" or "circular": PyTorch pads with that mode's values, then
    convolves without padding (pitfalls P06). `padding` is an int or one int per
    spatial axis (both sides), or "same": dilation * (kernel_size - 1) in total,
    the odd one after, as PyTorch splits it. Input: `data_format` with `rank`
    spatial axes."""

    def __init__(self, padding, kernel_size, dilation, rank, mode, data_format="channels_last",
                 **kwargs):
        super().__init__(**kwargs)
        if padding == "same":
            totals = [d * (k - 1) for k, d in zip(_t2k_tuple(kernel_size, rank), _t2k_tuple(dilation, rank))]
            self.widths = [(t // 2, t - t // 2) for t in totals]
        else:
            self.widths = [(p, p) for p in _t2k_tuple(padding, rank)]
        self.padding, self.kernel_size, self.dilation = padding, kernel_size, dilation
        self.rank, self.mode, self.data_format = rank, mode, data_format

    def call(self, inputs):
        first = 1 if self.data_format == "channels_last" else 2
        x = inputs
        for i, (before, after) in enumerate(self.widths):
            x = _t2k_pad_axis(x, first + i, before, after, self.mode)
        return x

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "kernel_size": self.kernel_size,
                "dilation": self.dilation, "rank": self.rank, "mode": self.mode,
                "data_format": self.data_format}


class PyTorchCropping(layers.Layer):
    """The `padding` of a torch.nn.ConvTranspose1d/2d/3d: PyTorch crops it from
    both ends of each spatial axis of the full transposed-convolution output
    (pitfalls P09). `cropping`: an int or one per spatial axis; input:
    `data_format` with `rank` spatial axes (Keras' Cropping1D has no
    data_format)."""

    def __init__(self, cropping, rank, data_format="channels_last", **kwargs):
        super().__init__(**kwargs)
        self.cropping, self.rank, self.data_format = cropping, rank, data_format

    def call(self, inputs):
        first = 1 if self.data_format == "channels_last" else 2
        index = [slice(None)] * len(inputs.shape)
        for i, c in enumerate(_t2k_tuple(self.cropping, self.rank)):
            if c:
                index[first + i] = slice(c, -c)
        return inputs[tuple(index)]

    def get_config(self):
        return {**super().get_config(), "cropping": self.cropping, "rank": self.rank,
                "data_format": self.data_format}


class PyTorchPad(layers.Layer):
    """torch.nn.ZeroPad/ConstantPad/ReflectionPad/ReplicationPad{1,2}d on
    PyTorch-order input: `padding` (an int, or (left, right[, top, bottom])) pads
    the last `rank` axes; "replicate" repeats the edge values."""

    def __init__(self, padding, rank, mode="constant", value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.padding = tuple(padding) if isinstance(padding, (tuple, list)) else (padding,) * (2 * rank)
        self.rank, self.mode, self.value = rank, mode, value

    def call(self, inputs):
        return pytorch_pad(inputs, self.padding, self.mode, self.value)

    def get_config(self):
        return {**super().get_config(), "padding": self.padding, "rank": self.rank, "mode": self.mode,
                "value": self.value}


class PyTorchLocalResponseNorm(layers.Layer):
    """torch.nn.LocalResponseNorm(size, alpha, beta, k) on PyTorch-order input:
    x / (k + alpha * mean of x^2 over `size` neighbouring channels)^beta, the
    window zero-padded by size // 2 before and (size - 1) // 2 after, the mean
    dividing by `size` (as PyTorch's avg_pool with count_include_pad)."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0, **kwargs):
        super().__init__(**kwargs)
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def call(self, inputs):
        rank = len(inputs.shape)
        channels = inputs.shape[1]
        pads = [[0, 0], [self.size // 2, (self.size - 1) // 2]] + [[0, 0]] * (rank - 2)
        squares = ops.pad(ops.square(inputs), pads)
        window = squares[:, 0:channels]
        for i in range(1, self.size):
            window = window + squares[:, i:i + channels]
        return inputs / ops.power(self.k + self.alpha * window / self.size, self.beta)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "alpha": self.alpha, "beta": self.beta,
                "k": self.k}


def pytorch_split(inputs, split_size_or_sections, axis=0):
    """torch.split: pieces of `split_size_or_sections` elements along `axis` (the
    last one smaller if need be), or of the listed sizes. keras.ops.split takes the
    number of equal pieces or the split points instead."""
    length = inputs.shape[axis]
    if isinstance(split_size_or_sections, int):
        points = list(range(split_size_or_sections, length, split_size_or_sections))
    else:
        points, total = [], 0
        for size in split_size_or_sections[:-1]:
            total += size
            points.append(total)
    return ops.split(inputs, points, axis=axis)


def pytorch_chunk(inputs, chunks, axis=0):
    """torch.chunk: pieces of ceil(L / chunks) elements along `axis` (the last one
    smaller, and fewer than `chunks` pieces when they run out: 8 in 3 chunks is
    3, 3, 2). keras.ops.split takes only a number of equal pieces; a length known
    only when the graph runs is split in `chunks` equal pieces, which is
    PyTorch's result whenever the split is even."""
    length = inputs.shape[axis]
    if length is None:
        return ops.split(inputs, chunks, axis=axis)
    return pytorch_split(inputs, -(-length // chunks), axis)


def pytorch_topk(inputs, k, axis=-1, largest=True):
    """torch.topk: the `k` largest (or, with largest=False, smallest) values along
    `axis`, sorted, and their indices, as (values, indices). keras.ops.top_k takes
    the largest along the last axis only: the axis is moved last and back, and the
    smallest are the largest of -inputs. Among equal values the lower index comes
    first (TensorFlow's top_k); PyTorch documents no order for them."""
    if axis is None:  # PyTorch's default: the last axis
        axis = -1
    moved = axis not in (-1, len(inputs.shape) - 1)
    x = ops.moveaxis(inputs, axis, -1) if moved else inputs
    values, indices = ops.top_k(x if largest else -x, k)
    if not largest:
        values = -values
    if moved:
        values, indices = ops.moveaxis(values, -1, axis), ops.moveaxis(indices, -1, axis)
    return values, indices


def pytorch_kthvalue(inputs, k, axis=-1, keepdims=False):
    """torch.kthvalue: the `k`-th smallest value along `axis` (k counts from 1) and
    its index, as (values, indices). The sort is stable: among equal values the
    first one's index (PyTorch documents no choice)."""
    if axis is None:  # PyTorch's default: the last axis
        axis = -1
    order = ops.argsort(inputs, axis=axis)
    indices = ops.take(order, k - 1, axis=axis)
    values = ops.take_along_axis(inputs, ops.expand_dims(indices, axis), axis=axis)
    if keepdims:
        return values, ops.expand_dims(indices, axis)
    return ops.squeeze(values, axis), indices


def pytorch_median(inputs, axis=-1, keepdims=False):
    """torch.median(x, dim): the lower of the two middle values along `axis` (numpy
    and keras.ops.median average them) and its index, as (values, indices): the
    ((n + 1) // 2)-th smallest of n."""
    n = ops.shape(inputs)[axis]
    return pytorch_kthvalue(inputs, (n + 1) // 2, axis, keepdims)


def pytorch_interpolate(inputs, size=None, scale_factor=None, mode="nearest",
                        data_format="channels_last"):
    """torch.nn.functional.interpolate (align_corners=False) of a batch with 1 to 3
    spatial axes, (N, C, *spatial) or channels-last (N, *spatial, C).

    The output size is `size`, or the input size times an integer `scale_factor`.
    "nearest" takes an integer scale and repeats each value that many times along
    each spatial axis (PyTorch's nearest reads source index floor(i / scale));
    "linear" (1 spatial axis) and "bilinear" (2) resize with keras.ops.image.resize,
    which samples at pixel centres as PyTorch does with align_corners=False.
    Raises ValueError, as PyTorch does, for a mode that does not fit the rank."""
    spatial = len(inputs.shape) - 2
    first = 1 if data_format == "channels_last" else 2
    axes = tuple(range(first, first + spatial))
    if mode == "nearest":
        scale = _t2k_tuple(scale_factor, spatial)
        for axis, repeats in zip(axes, scale):
            inputs = ops.repeat(inputs, repeats, axis=axis)
        return inputs
    wanted = {"linear": 1, "bilinear": 2}.get(mode)
    if wanted != spatial:
        raise ValueError(
            f"interpolate: mode={mode!r} needs {wanted} spatial axes, the input has {spatial}"
        )
    if size is None:
        scale = _t2k_tuple(scale_factor, spatial)
        size = tuple(inputs.shape[a] * s for a, s in zip(axes, scale))
    size = _t2k_tuple(size, spatial)
    if spatial == 2:
        return ops.image.resize(inputs, size, interpolation="bilinear",
                                data_format=data_format)
    # linear: a bilinear resize of (N, L, 1, C) to (size, 1) (a width of 1 kept as it is).
    x = ops.expand_dims(inputs, axis=first + 1)
    x = ops.image.resize(x, (size[0], 1), interpolation="bilinear", data_format=data_format)
    return ops.squeeze(x, axis=first + 1)


def _t2k_reduce(loss, reduction):
    """PyTorch's `reduction` of elementwise losses: "mean" over every element,
    "sum", or "none" (the losses as they are)."""
    if reduction == "none":
        return loss
    if reduction == "sum":
        return ops.sum(loss)
    return ops.mean(loss)


def _t2k_class_weights(weight, rank):
    """Class weights (C,) shaped to broadcast over classes on axis 1 of a tensor
    of `rank` (N, C, d1, ...)."""
    return ops.reshape(weight, (1, -1) + (1,) * (rank - 2))


def pytorch_cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean",
                          label_smoothing=0.0):
    """torch.nn.functional.cross_entropy in PyTorch's axis order.

    input: logits (N, C) or (N, C, d1, ...), classes on axis 1. target: class
    indices (N,) / (N, d1, ...), an integer tensor, or class probabilities shaped
    like input, a float tensor. `weight` (C,) weighs each class. With indices, an
    index equal to `ignore_index` adds nothing and "mean" divides by the summed
    weights of the other entries (their number without weights; 0/0 is NaN, as
    PyTorch's); label_smoothing eps gives (1 - eps) * that loss + eps / C * the
    summed (weighted) -log-probabilities, reduced alike (PyTorch's
    cross_entropy_loss_label_smoothing). With probabilities, the target becomes
    (1 - eps) * target + eps / C and "mean" divides by the number of entries,
    weights or not."""
    log_probs = ops.log_softmax(input, axis=1)
    classes = input.shape[1]
    eps = float(label_smoothing)
    rank = len(input.shape)
    w = None if weight is None else ops.cast(_t2k_class_weights(weight, rank), log_probs.dtype)
    if "int" in keras.backend.standardize_dtype(target.dtype):
        valid = ops.not_equal(target, ignore_index)
        safe = ops.where(valid, target, 0)
        picked = ops.one_hot(safe, classes, axis=1, dtype=log_probs.dtype)
        weighted = picked if w is None else picked * w
        zeros = ops.zeros_like(log_probs[:, 0])
        nll = ops.where(valid, -ops.sum(weighted * log_probs, axis=1), zeros)
        smooth = log_probs if w is None else log_probs * w
        smooth = ops.where(valid, -ops.sum(smooth, axis=1), zeros)
        if reduction == "none":
            return (1.0 - eps) * nll + eps / classes * smooth if eps else nll
        if reduction == "sum":
            nll, smooth = ops.sum(nll), ops.sum(smooth)
        else:
            count = ops.where(valid, ops.sum(weighted, axis=1), zeros)
            count = ops.sum(count)
            nll, smooth = ops.sum(nll) / count, ops.sum(smooth) / count
        return (1.0 - eps) * nll + eps / classes * smooth if eps else nll
    probs = ops.cast(target, log_probs.dtype)
    if eps:
        probs = (1.0 - eps) * probs + eps / classes
    terms = probs * log_probs if w is None else probs * log_probs * w
    loss = -ops.sum(terms, axis=1)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return ops.sum(loss)
    return ops.sum(loss) / ops.cast(ops.size(loss), loss.dtype)


def pytorch_nll_loss(input, target, weight=None, ignore_index=-100, reduction="mean"):
    """torch.nn.functional.nll_loss: input holds log-probabilities (N, C) or
    (N, C, d1, ...), target class indices; the loss of an entry is
    -weight[t] * input[t], "mean" divides by the summed weights of the entries
    whose index is not `ignore_index`."""
    classes = input.shape[1]
    valid = ops.not_equal(target, ignore_index)
    picked = ops.one_hot(ops.where(valid, target, 0), classes, axis=1, dtype=input.dtype)
    if weight is not None:
        picked = picked * ops.cast(_t2k_class_weights(weight, len(input.shape)), input.dtype)
    zeros = ops.zeros_like(input[:, 0])
    loss = ops.where(valid, -ops.sum(picked * input, axis=1), zeros)
    if reduction == "none":
        return loss
    if reduction == "sum":
        return ops.sum(loss)
    return ops.sum(loss) / ops.sum(ops.where(valid, ops.sum(picked, axis=1), zeros))


def pytorch_binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """torch.nn.functional.binary_cross_entropy of probabilities: -w * (y log x +
    (1 - y) log(1 - x)), each log clamped at -100 as PyTorch clamps it (Keras
    clips x to [1e-7, 1 - 1e-7] instead, pitfalls P52)."""
    target = ops.cast(target, input.dtype)
    log_x = ops.maximum(ops.log(input), -100.0)
    log_1mx = ops.maximum(ops.log(1.0 - input), -100.0)
    loss = -(target * log_x + (1.0 - target) * log_1mx)
    if weight is not None:
        loss = loss * weight
    return _t2k_reduce(loss, reduction)


def pytorch_binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean",
                                             pos_weight=None):
    """torch.nn.functional.binary_cross_entropy_with_logits, computed as PyTorch
    does for stability: (1 - y) x + (1 + (p - 1) y) (log(1 + e^-|x|) + max(-x, 0)),
    p the positive-class weight (pos_weight, broadcast over the last axis)."""
    target = ops.cast(target, input.dtype)
    softplus = ops.log1p(ops.exp(-ops.abs(input))) + ops.maximum(-input, 0.0)
    if pos_weight is None:
        loss = (1.0 - target) * input + softplus
    else:
        loss = (1.0 - target) * input + ((pos_weight - 1.0) * target + 1.0) * softplus
    if weight is not None:
        loss = loss * weight
    return _t2k_reduce(loss, reduction)


def pytorch_mse_loss(input, target, reduction="mean"):
    """torch.nn.MSELoss: (input - target)^2, reduced over every element."""
    return _t2k_reduce(ops.square(input - target), reduction)


def pytorch_l1_loss(input, target, reduction="mean"):
    """torch.nn.L1Loss: |input - target|, reduced over every element."""
    return _t2k_reduce(ops.abs(input - target), reduction)


def pytorch_smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """torch.nn.functional.smooth_l1_loss: 0.5 d^2 / beta where |d| < beta, else
    |d| - 0.5 beta (beta = 0: |d|). Keras' Huber(delta) is beta * this only for
    beta = delta = 1 (pitfalls P52)."""
    d = ops.abs(input - target)
    if beta == 0:
        return _t2k_reduce(d, reduction)
    return _t2k_reduce(ops.where(d < beta, 0.5 * d * d / beta, d - 0.5 * beta), reduction)


def pytorch_huber_loss(input, target, reduction="mean", delta=1.0):
    """torch.nn.functional.huber_loss: 0.5 d^2 where |d| <= delta, else
    delta (|d| - 0.5 delta)."""
    d = ops.abs(input - target)
    return _t2k_reduce(ops.where(d <= delta, 0.5 * d * d, delta * (d - 0.5 * delta)), reduction)


def pytorch_kl_div(input, target, reduction="mean", log_target=False):
    """torch.nn.functional.kl_div: input holds log-probabilities; the pointwise
    loss is target (log target - input) (0 where target is 0), or with log_target
    e^target (target - input). "mean" averages every element; "batchmean" sums
    and divides by the batch size (the true KL divergence)."""
    if log_target:
        loss = ops.exp(target) * (target - input)
    else:
        positive = target > 0
        safe = ops.where(positive, target, ops.ones_like(target))
        loss = ops.where(positive, target * (ops.log(safe) - input), ops.zeros_like(target))
    if reduction == "batchmean":
        return ops.sum(loss) / ops.cast(ops.shape(input)[0], loss.dtype)
    return _t2k_reduce(loss, reduction)


def pytorch_cosine_embedding_loss(input1, input2, target, margin=0.0, reduction="mean"):
    """torch.nn.functional.cosine_embedding_loss: 1 - cos(x1, x2) where target is
    1, max(0, cos(x1, x2) - margin) where it is -1; cos over the last axis with
    1e-12 added to each squared norm (PyTorch's EPSILON)."""
    dot = ops.sum(input1 * input2, axis=-1)
    norms = ops.sqrt((ops.sum(input1 * input1, axis=-1) + 1e-12) * (ops.sum(input2 * input2, axis=-1) + 1e-12))
    cos = dot / norms
    target = ops.cast(target, cos.dtype)
    zeros = ops.zeros_like(cos)
    loss = ops.where(target == 1, 1.0 - cos, zeros) + ops.where(target == -1, ops.maximum(cos - margin, 0.0), zeros)
    return _t2k_reduce(loss, reduction)


class PyTorchLoss(layers.Layer):
    """A torch.nn loss module (CrossEntropyLoss, MSELoss...): called as PyTorch
    calls it, loss(input, target[, ...]), in PyTorch's axis order; `fn` is the
    runtime's functional form (pytorch_cross_entropy...), given the options it
    takes (each default here is every such form's default). Class weights and
    pos_weight are PyTorch buffers: variables here, which the weight loader
    fills from the state_dict (`weight`, `pos_weight`)."""

    def __init__(self, fn, weight=None, pos_weight=None, reduction="mean", ignore_index=-100,
                 label_smoothing=0.0, beta=1.0, delta=1.0, log_target=False, margin=0.0):
        super().__init__()
        import inspect

        given = dict(reduction=reduction, ignore_index=ignore_index, label_smoothing=label_smoothing,
                     beta=beta, delta=delta, log_target=log_target, margin=margin)
        accepted = inspect.signature(fn).parameters
        self.fn = fn
        self.options = {name: value for name, value in given.items() if name in accepted}
        self.weight = None if weight is None else self._buffer(weight)
        self.pos_weight = None if pos_weight is None else self._buffer(pos_weight)

    def _buffer(self, value):
        value = ops.convert_to_numpy(value)
        return self.add_weight(shape=value.shape, initializer=keras.initializers.Constant(value),
                               trainable=False, dtype=value.dtype)

    def call(self, *inputs, **named):
        # `named`: PyTorch's keyword forms, loss(input=..., target=...) (input1,
        # input2 for CosineEmbeddingLoss), the names of the functional forms here.
        extra = {"weight": self.weight} if self.weight is not None else {}
        if self.pos_weight is not None:
            extra["pos_weight"] = self.pos_weight
        return self.fn(*inputs, **named, **extra, **self.options)


class PyTorchUpsample(layers.Layer):
    """torch.nn.Upsample(size, scale_factor, mode) of a batch with 1 to 3 spatial
    axes (one layer for every rank, as PyTorch's): pytorch_interpolate."""

    def __init__(self, size=None, scale_factor=None, mode="nearest",
                 data_format="channels_last", **kwargs):
        super().__init__(**kwargs)
        self.size, self.scale_factor, self.mode = size, scale_factor, mode
        self.data_format = data_format

    def call(self, inputs):
        return pytorch_interpolate(inputs, self.size, self.scale_factor, self.mode,
                                   self.data_format)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "scale_factor": self.scale_factor,
                "mode": self.mode, "data_format": self.data_format}


# --- Recurrent layers (issue 6): nn.RNN / LSTM / GRU and their cells, made of
# Keras's own SimpleRNN / LSTM / GRU layers and cells, with PyTorch's arguments,
# axis order, return structure and parameter names (pitfalls.md P24-P26).


class _PyTorchRecurrentWeights:
    """load_torch_params for the recurrent layers: PyTorch's weight_ih{suffix}
    (G * H, H_in), weight_hh{suffix} (G * H, H), bias_ih{suffix} and
    bias_hh{suffix} (G * H,) into the Keras cell's kernel (H_in, G * H),
    recurrent_kernel (H, G * H) and bias, the gate blocks re-ordered:

    * LSTM: PyTorch's gates (i, f, g, o) (torch/nn/modules/rnn.py, LSTM
      docstring) are Keras's (i, f, c, o) (keras/src/layers/rnn/lstm.py,
      LSTMCell._compute_carry_and_output): the same order. Keras has one bias:
      bias_ih + bias_hh.
    * GRU: PyTorch's (r, z, n) (rnn.py, GRU docstring) are Keras's (z, r, h)
      (keras/src/layers/rnn/gru.py, GRUCell.call: kernel[:, :units] is z).
      Keras's reset_after=True bias (2, 3H) holds the input bias, then the
      recurrent one: [bias_ih; bias_hh].
    * RNN: one block, Keras's one bias = bias_ih + bias_hh.
    * LSTM with proj_size: weight_hr{suffix} (P, H) is the projection (H, P)
      transposed (PyTorchProjectedLSTMCell).

    A summed bias gives the same numbers in inference; under training PyTorch
    updates its two biases separately (both get the same gradient, so their sum
    moves by twice a plain SGD step), where Keras updates the one sum once:
    training an RNN or LSTM with biases differs from PyTorch's (GRU keeps both).
    Raises ValueError naming the parameter on an unknown or missing name or a
    shape that does not fit."""

    _state_pair = False  # LSTM: hx and the returned state are the pair (h, c)

    def _torch_cells(self):
        """(Keras cell, PyTorch name suffix) pairs, in PyTorch's order."""
        raise NotImplementedError

    def _t2k_states(self, hx):
        """hx as a list of state tensors (None: as many Nones)."""
        if hx is None:
            return [None] * (2 if self._state_pair else 1)
        return list(hx) if self._state_pair else [hx]

    def _t2k_result(self, states):
        return tuple(states) if self._state_pair else states[0]

    def load_torch_params(self, params):
        if not self.built:
            self.build(None)
        params = dict(params)
        for cell, suffix in self._torch_cells():
            if isinstance(cell, layers.GRUCell):
                order = [1, 0, 2]  # Keras (z, r, h) from PyTorch (r, z, n)
            else:
                order = list(range(cell.kernel.shape[1] // cell.units))
            expected = {"weight_ih": cell.kernel.shape[::-1],
                        "weight_hh": cell.recurrent_kernel.shape[::-1]}
            if cell.use_bias:
                expected.update(bias_ih=cell.kernel.shape[1:], bias_hh=cell.kernel.shape[1:])
            values = {}
            for name, shape in expected.items():
                value = self._t2k_param(params, name + suffix, shape)
                gates = value.reshape((len(order), -1) + value.shape[1:])[order]
                values[name] = gates.reshape(value.shape)
            if getattr(cell, "projection", None) is not None:  # PyTorchProjectedLSTMCell
                values["weight_hr"] = self._t2k_param(params, "weight_hr" + suffix,
                                                      cell.projection.shape[::-1])
                cell.projection.assign(values["weight_hr"].T)
            cell.kernel.assign(values["weight_ih"].T)
            cell.recurrent_kernel.assign(values["weight_hh"].T)
            if cell.use_bias and len(cell.bias.shape) == 2:  # GRU reset_after: [bias_ih; bias_hh]
                cell.bias.assign(np.stack([values["bias_ih"], values["bias_hh"]]))
            elif cell.use_bias:
                cell.bias.assign(values["bias_ih"] + values["bias_hh"])
        if params:
            raise ValueError(f"load_torch_state_dict: {self.name!r} ({type(self).__name__}) "
                             f"has no parameter {sorted(params)[0]!r}")

    def _t2k_param(self, params, key, shape):
        """params[key] (removed from params) as float32, checked against `shape`."""
        if key not in params:
            raise ValueError(f"load_torch_state_dict: no {key!r} for {self.name!r} "
                             f"({type(self).__name__}); it has {sorted(params)}")
        value = np.asarray(params.pop(key), dtype="float32")
        if value.shape != tuple(shape):
            raise ValueError(f"load_torch_state_dict: shape mismatch for {key!r}: "
                             f"PyTorch shape {value.shape}, {self.name!r} "
                             f"({type(self).__name__}) expects {tuple(shape)}")
        return value


class _PyTorchRecurrent(_PyTorchRecurrentWeights, layers.Layer):
    """torch.nn.RNN / LSTM / GRU: one Keras SimpleRNN / LSTM / GRU layer per layer
    and direction (self.rnns[layer * D + direction], PyTorch's order of h_n),
    return_sequences and return_state; the reverse direction reads the sequence
    backwards (go_backwards) and its outputs are flipped back to time order.
    Dropout between layers (not after the last), in training only (P26).

    call(input, hx=None): input (L, N, H_in), (N, L, H_in) with batch_first, or
    unbatched (L, H_in); hx (D * num_layers, N, H) (unbatched: (D * num_layers,
    H)), zeros when None; LSTM's hx is the pair (h_0, c_0). Returns
    (output, h_n), LSTM (output, (h_n, c_n)): output (L, N, D * H) ((N, L, D *
    H) with batch_first; (L, D * H) unbatched) and h_n, c_n shaped as hx, with
    D = 2 if bidirectional else 1 (torch/nn/modules/rnn.py docstrings); H is
    proj_size for an LSTM with a projection, hidden_size otherwise (c_n has
    hidden_size features).

    A PyTorchPackedSequence input (pytorch_pack_padded_sequence) gives a
    PyTorchPackedSequence output, as PyTorch's PackedSequence does: each
    sequence runs over its own length only (_t2k_layers), and batch_first does
    not apply to it.
    """

    proj_size = 0  # LSTM only

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, **kwargs):
        super().__init__(**kwargs)
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, dropout
        self.bidirectional = bidirectional
        self.directions = 2 if bidirectional else 1
        self.rnns = [self._keras_layer(use_bias=bias, return_sequences=True, return_state=True,
                                       go_backwards=i % self.directions == 1)
                     for i in range(num_layers * self.directions)]
        self.inter_layer_dropout = layers.Dropout(dropout)

    def _keras_layer(self, **kwargs):
        raise NotImplementedError

    def build(self, input_shape):
        for i, rnn in enumerate(self.rnns):
            size = self.directions * (self.proj_size or self.hidden_size)
            if i < self.directions:
                size = self.input_size
            rnn.build((None, None, size))
        self.inter_layer_dropout.build(None)
        self.built = True

    def flatten_parameters(self):
        """Nothing to do: PyTorch packs its weights for cuDNN here (models call it
        in forward); the numbers do not change."""

    def _torch_cells(self):
        return [(rnn.cell, f"_l{i // self.directions}" + ("_reverse" if i % self.directions else ""))
                for i, rnn in enumerate(self.rnns)]

    def call(self, input, hx=None, training=None):
        states = None if hx is None else self._t2k_states(hx)
        # A PyTorchPackedSequence (named by its type, so that a model without one
        # does not copy the class): (N, T, H_in) and the lengths.
        if isinstance(input, tuple):
            output, finals = self._t2k_layers(input.data, states, training, mask=input.mask())
            return type(input)(output, input.lengths), self._t2k_result(finals)
        batched = len(input.shape) == 3
        if not batched:
            x = ops.expand_dims(input, 0)
            states = None if states is None else [ops.expand_dims(s, 1) for s in states]
        else:
            x = input if self.batch_first else ops.swapaxes(input, 0, 1)
        x, finals = self._t2k_layers(x, states, training)
        if not batched:
            return x[0], self._t2k_result([s[:, 0] for s in finals])
        return (x if self.batch_first else ops.swapaxes(x, 0, 1)), self._t2k_result(finals)

    def _t2k_layers(self, x, states, training, mask=None):
        """Runs the layers on batch-major x (N, L, H_in) from `states` (the list of
        hx's tensors, or None: zeros): the output (N, L, D * H) and the list of
        final states, each (D * num_layers, N, H). With a mask (N, L), each
        sequence runs over its own steps only: Keras's RNN keeps the state
        through a masked step, so a sequence's final state is its state at its
        last valid step, and a reverse direction (go_backwards, which reverses
        the mask too) starts at that step, as PyTorch runs a packed sequence."""
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.directions):
                i = layer * self.directions + direction
                initial = None if states is None else [s[i] for s in states]
                y, *last = self.rnns[i](x, initial_state=initial, mask=mask)
                outputs.append(ops.flip(y, axis=1) if direction else y)
                finals.append(last)
            x = outputs[0] if self.directions == 1 else ops.concatenate(outputs, axis=-1)
            if layer < self.num_layers - 1:
                x = self.inter_layer_dropout(x, training=training)
        return x, [ops.stack(s, axis=0) for s in zip(*finals)]

    def get_config(self):
        config = super().get_config()
        config.update(input_size=self.input_size, hidden_size=self.hidden_size,
                      num_layers=self.num_layers, bias=self.bias, batch_first=self.batch_first,
                      dropout=self.dropout, bidirectional=self.bidirectional)
        return config


class PyTorchRNN(_PyTorchRecurrent):
    """torch.nn.RNN (Elman, tanh or relu): keras.layers.SimpleRNN per layer and
    direction (see _PyTorchRecurrent)."""

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, **kwargs):
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, num_layers=num_layers, bias=bias,
                         batch_first=batch_first, dropout=dropout, bidirectional=bidirectional,
                         **kwargs)

    def _keras_layer(self, **kwargs):
        return layers.SimpleRNN(self.hidden_size, activation=self.nonlinearity, **kwargs)

    def get_config(self):
        return {**super().get_config(), "nonlinearity": self.nonlinearity}


class PyTorchLSTM(_PyTorchRecurrent):
    """torch.nn.LSTM: keras.layers.LSTM per layer and direction (see
    _PyTorchRecurrent); hx and the returned state are the pair (h, c)."""

    _state_pair = True

    def _keras_layer(self, **kwargs):
        return layers.LSTM(self.hidden_size, activation="tanh", recurrent_activation="sigmoid",
                           **kwargs)


class PyTorchProjectedLSTM(PyTorchLSTM):
    """torch.nn.LSTM with proj_size > 0, which Keras's LSTM lacks: a
    keras.layers.RNN of PyTorchProjectedLSTMCell per layer and direction; h_n
    and the output have proj_size features, c_n hidden_size (proj_size 0: as
    PyTorchLSTM)."""

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, **kwargs):
        self.proj_size = proj_size
        super().__init__(input_size, hidden_size, num_layers=num_layers, bias=bias,
                         batch_first=batch_first, dropout=dropout, bidirectional=bidirectional,
                         **kwargs)

    def _keras_layer(self, use_bias, **kwargs):
        if not self.proj_size:
            return super()._keras_layer(use_bias=use_bias, **kwargs)
        return layers.RNN(PyTorchProjectedLSTMCell(self.hidden_size, self.proj_size,
                                                   use_bias=use_bias), **kwargs)

    def get_config(self):
        return {**super().get_config(), "proj_size": self.proj_size}


class PyTorchGRU(_PyTorchRecurrent):
    """torch.nn.GRU: keras.layers.GRU(reset_after=True) per layer and direction
    (see _PyTorchRecurrent): PyTorch's n = tanh(W_in x + b_in + r * (W_hn h +
    b_hn)) is Keras's reset_after form (P25)."""

    def _keras_layer(self, **kwargs):
        return layers.GRU(self.hidden_size, activation="tanh", recurrent_activation="sigmoid",
                          reset_after=True, **kwargs)


class PyTorchProjectedLSTMCell(layers.LSTMCell):
    """keras.layers.LSTMCell with the projection of PyTorch's LSTM(proj_size=P)
    (torch/nn/modules/rnn.py, LSTM docstring): h_t = (o_t * tanh(c_t)) W_hr^T,
    so h has P features and c has `units`; the recurrent kernel reads h: (P, 4 *
    units); `projection` (units, P) is W_hr transposed. Gates as LSTMCell."""

    def __init__(self, units, proj_size, **kwargs):
        super().__init__(units, activation="tanh", recurrent_activation="sigmoid", **kwargs)
        self.proj_size = proj_size
        self.state_size = [proj_size, units]
        self.output_size = proj_size

    def build(self, input_shape):
        # LSTMCell.build would make a (units, 4 * units) recurrent kernel.
        gates = 4 * self.units
        self.kernel = self.add_weight(shape=(input_shape[-1], gates), name="kernel",
                                      initializer=self.kernel_initializer)
        self.recurrent_kernel = self.add_weight(shape=(self.proj_size, gates),
                                                name="recurrent_kernel",
                                                initializer=self.recurrent_initializer)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(shape=(gates,), name="bias",
                                        initializer=self.bias_initializer)
        self.projection = self.add_weight(shape=(self.units, self.proj_size), name="projection",
                                          initializer=self.kernel_initializer)
        self.built = True

    def call(self, inputs, states, training=False):
        h, (_, c) = super().call(inputs, states, training=training)
        h = ops.matmul(h, self.projection)
        return h, [h, c]

    def get_config(self):
        return {**super().get_config(), "proj_size": self.proj_size}


class PyTorchPackedSequence(tuple):
    """torch.nn.utils.rnn.PackedSequence as a converted model holds it: the
    padded batch `data`, batch-major (N, T, *), and `lengths` (N,) int64, in
    the batch's own order. PyTorch packs the valid steps of sequences sorted by
    length (enforce_sorted=False sorts them and keeps the permutation); the
    recurrent layers here instead run every sequence masked to its length, so
    neither sorting nor the permutation is needed and h_n is in the batch's
    order, as PyTorch returns it. Values of `data` past a sequence's length are
    never read: pytorch_pad_packed_sequence writes the padding value there.

    It follows the namedtuple protocol (_fields, _make, _asdict), as PyTorch's
    PackedSequence does, so that a Keras layer call takes it as a structure of
    tensors (Keras takes only tensors positionally)."""

    __slots__ = ()
    _fields = ("data", "lengths")

    def __new__(cls, data, lengths):
        return tuple.__new__(cls, (data, lengths))

    @classmethod
    def _make(cls, iterable):
        return cls(*iterable)

    def _asdict(self):
        return dict(zip(self._fields, self))

    @property
    def data(self):
        return self[0]

    @property
    def lengths(self):
        return self[1]

    def mask(self):
        """(N, T) boolean: True at each sequence's first `length` steps."""
        steps = ops.arange(ops.shape(self.data)[1])
        return ops.less(ops.expand_dims(steps, 0), ops.expand_dims(self.lengths, 1))


def pytorch_pack_padded_sequence(input, lengths, batch_first=False):
    """torch.nn.utils.rnn.pack_padded_sequence: `input` (T, N, *) ((N, T, *) with
    batch_first), right-padded, and the sequences' lengths (a tensor or a list)
    as a PyTorchPackedSequence. PyTorch requires 1 <= length <= T."""
    data = input if batch_first else ops.swapaxes(input, 0, 1)
    return PyTorchPackedSequence(data, ops.cast(lengths, "int64"))


def pytorch_pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """torch.nn.utils.rnn.pad_packed_sequence: the PyTorchPackedSequence
    `sequence` as (padded, lengths): padded (T, N, *) ((N, T, *) with
    batch_first) holds `padding_value` past each sequence's length; T is the
    longest length, or `total_length` (PyTorch requires it to be at least the
    longest length). lengths is int64, in the batch's order."""
    data, lengths = sequence
    if total_length is None:
        data = data[:, : ops.max(lengths)]
    else:
        extra = ops.maximum(total_length - ops.shape(data)[1], 0)
        data = ops.pad(data, [(0, 0), (0, extra)] + [(0, 0)] * (len(data.shape) - 2))
        data = data[:, :total_length]
    mask = PyTorchPackedSequence(data, lengths).mask()
    for _ in range(len(data.shape) - 2):
        mask = ops.expand_dims(mask, -1)
    padded = ops.where(mask, data, ops.cast(padding_value, data.dtype))
    return (padded if batch_first else ops.swapaxes(padded, 0, 1)), lengths


class _PyTorchRecurrentCell(_PyTorchRecurrentWeights, layers.Layer):
    """torch.nn.RNNCell / LSTMCell / GRUCell: one step of a Keras SimpleRNNCell /
    LSTMCell / GRUCell. call(input, hx=None): input (N, H_in) or unbatched
    (H_in,); hx (N, H) (LSTMCell: the pair (h, c)), zeros when None. Returns h'
    (LSTMCell: (h', c')) shaped as hx. Parameters weight_ih, weight_hh,
    bias_ih, bias_hh (torch/nn/modules/rnn.py, RNNCellBase)."""

    def __init__(self, input_size, hidden_size, bias=True, **kwargs):
        super().__init__(**kwargs)
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.cell = self._keras_cell(use_bias=bias)

    def _keras_cell(self, **kwargs):
        raise NotImplementedError

    def build(self, input_shape):
        self.cell.build((None, self.input_size))
        self.built = True

    def _torch_cells(self):
        return [(self.cell, "")]

    def call(self, input, hx=None):
        batched = len(input.shape) == 2
        x = input if batched else ops.expand_dims(input, 0)
        if hx is None:
            states = [ops.zeros((ops.shape(x)[0], self.hidden_size), dtype=x.dtype)
                      for _ in self._t2k_states(None)]
        else:
            states = [s if batched else ops.expand_dims(s, 0) for s in self._t2k_states(hx)]
        _, states = self.cell(x, states)
        return self._t2k_result(states if batched else [s[0] for s in states])

    def get_config(self):
        config = super().get_config()
        config.update(input_size=self.input_size, hidden_size=self.hidden_size, bias=self.bias)
        return config


class PyTorchRNNCell(_PyTorchRecurrentCell):
    """torch.nn.RNNCell (tanh or relu): keras.layers.SimpleRNNCell."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", **kwargs):
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias=bias, **kwargs)

    def _keras_cell(self, **kwargs):
        return layers.SimpleRNNCell(self.hidden_size, activation=self.nonlinearity, **kwargs)

    def get_config(self):
        return {**super().get_config(), "nonlinearity": self.nonlinearity}


class PyTorchLSTMCell(_PyTorchRecurrentCell):
    """torch.nn.LSTMCell: keras.layers.LSTMCell; hx and the result are (h, c)."""

    _state_pair = True

    def _keras_cell(self, **kwargs):
        return layers.LSTMCell(self.hidden_size, activation="tanh",
                               recurrent_activation="sigmoid", **kwargs)


class PyTorchGRUCell(_PyTorchRecurrentCell):
    """torch.nn.GRUCell: keras.layers.GRUCell(reset_after=True) (P25)."""

    def _keras_cell(self, **kwargs):
        return layers.GRUCell(self.hidden_size, activation="tanh", recurrent_activation="sigmoid",
                              reset_after=True, **kwargs)


class PyTorchBatchNormalization(layers.BatchNormalization):
    """layers.BatchNormalization whose training step updates the moving variance
    with the unbiased batch variance, n / (n - 1) times the biased one it
    normalizes with (n values per channel), as PyTorch's BatchNorm updates
    running_var; the rest is Keras' own. The converter uses it where the file's
    own code trains the model (inference is the same either way)."""

    def call(self, inputs, training=None, mask=None):
        if not (training and self.trainable) or mask is not None:
            return super().call(inputs, training=training, mask=mask)
        outputs = super().call(inputs, training=training, mask=mask)
        # Keras added (1 - momentum) * variance; PyTorch adds that of the unbiased
        # one (an assign_add: a value read before Keras' assign may alias it).
        _, variance = self._moments(ops.cast(inputs, "float32"), mask)
        n = ops.cast(ops.size(inputs) // ops.shape(inputs)[self.axis], variance.dtype)
        unbiased = variance * n / ops.maximum(n - 1.0, 1.0)
        self.moving_variance.assign_add(ops.cast((1.0 - self.momentum) * (unbiased - variance),
                                                 self.moving_variance.dtype))
        return outputs


# PyTorch's gradients, for training code converted as it is written: each
# trainable variable's accumulated gradient (its .grad), filled by
# pytorch_backward (loss.backward()), read by optimizer.step(), cleared by
# zero_grad(). id(variable) -> _T2KGradient.
_T2K_GRADIENTS = {}


class _T2KGradient:
    """The stored gradient of `variable`: `value`, a tensor, or None where a
    train_step's zero_grad() left none (eager code removes the entry instead);
    `step`, the bookkeeping of the train_step trace that stored it (see
    _T2K_STEPS), None for eager code; `zeros`, zero_grad(set_to_none=False)'s
    zeros, the same in any step; `present`, True, or a bool tensor where a
    pytorch_if set the gradient on one path only (`value` is then zeros on the
    other)."""

    __slots__ = ("variable", "value", "step", "zeros", "present")

    def __init__(self, variable, value, step=None, zeros=False, present=True):
        self.variable, self.value, self.step, self.zeros, self.present = variable, value, step, zeros, present


# The optimizers made with parameters (weak references): backward() computes
# the gradients of theirs.
_T2K_OPTIMIZERS = []


# The gradient bookkeeping of the train_step being traced (a stack:
# PyTorchTrainStep opens one per trace; the traced graph then runs for each
# batch): "zeroers", the variable sources of its zero_grad() calls (a layer
# built after one, at its first call, counts as zeroed by it: PyTorch's
# parameters exist from the start); "carried", id(variable) -> the _T2KCarry of
# each gradient the step took from the batch before (it writes them back at its
# end, "written" those it changed); "fresh", id(variable) -> that entry as
# taken, untouched, "before" the entry it replaced; "assumed", id(variable) ->
# the presence the step took for a carried gradient it used untouched (see
# _t2k_stored_gradient).
_T2K_STEPS = []


# Gradients kept from one compiled step to the next, as PyTorch keeps .grad
# until zero_grad() (gradient accumulation over batches): id(variable) ->
# _T2KCarry. Made at a step's first touch of a gradient it does not zero first.
_T2K_CARRIED = {}


class _T2KCarry:
    """`variable`'s gradient between the batches of fit(): `value` (zeros when
    there is none) and `present` (whether there is one), variables the traced
    step reads at its first touch of the gradient and assigns at its end.
    load() takes the gradient eager code left before fit(), save() gives the
    last batch's back; `known` is whether there was one when fit() started, or
    None when unknown (a gradient another compiled step left)."""

    def __init__(self, variable):
        self.variable = variable
        entry = self._entry()
        initial = None if entry is None or entry.step is not None else entry.value
        self.known = self._presence(entry)
        # Initializers, not assigns: the step being traced makes these, and an
        # assign there would run again at every batch.
        name = variable.path.replace("/", "_") + "_grad"
        self.value = keras.Variable(
            keras.initializers.Zeros() if initial is None else keras.initializers.Constant(ops.convert_to_numpy(initial)),
            shape=variable.shape, dtype=variable.dtype, trainable=False, name=name)
        self.present = keras.Variable(bool(self.known), dtype="bool", trainable=False, name=name + "_present")

    def _entry(self):
        return _T2K_GRADIENTS.get(id(self.variable))

    @staticmethod
    def _presence(entry):
        if entry is None or entry.value is None:
            return False
        return True if entry.step is None or entry.zeros else None

    def load(self):
        """The gradient eager code left (fit() starting)."""
        entry = self._entry()
        self.known = self._presence(entry)
        if self.known:
            self.value.assign(ops.cast(entry.value, self.variable.dtype))
        elif self.known is False:
            self.value.assign(ops.zeros_like(self.variable))
        self.present.assign(bool(self.known))

    def save(self):
        """The last batch's gradient, as eager code finds it (fit() done)."""
        self.known = bool(ops.convert_to_numpy(self.present))
        if self.known:
            _T2K_GRADIENTS[id(self.variable)] = _T2KGradient(self.variable, ops.convert_to_tensor(self.value))
        else:
            _T2K_GRADIENTS.pop(id(self.variable), None)


def _t2k_step_entry(variable, step):
    """`variable`'s gradient entry in the train_step `step` being traced: the one
    the step stored, or at its first touch of it (backward(), step(),
    clipping), none where a zero_grad() of the step covers it, else the
    gradient the batch before left, carried in."""
    entry = _T2K_GRADIENTS.get(id(variable))
    if entry is not None and entry.step is step:
        return entry
    key = id(variable)
    if any(key in {id(v) for v in zeroer()} for zeroer in step["zeroers"]):
        entry = _T2KGradient(variable, None, step)
    else:
        carry = _T2K_CARRIED.get(key)
        if carry is None:
            carry = _T2K_CARRIED[key] = _T2KCarry(variable)
        entry = _T2KGradient(variable, ops.convert_to_tensor(carry.value), step,
                             present=ops.convert_to_tensor(carry.present))
        step["carried"][key] = carry
        step["fresh"][key] = entry
        step["before"][key] = _T2K_GRADIENTS.get(key)
    _T2K_GRADIENTS[key] = entry
    return entry


def _t2k_stored_gradient(variable, use=True):
    """The gradient backward() stored for `variable` since its last zero_grad
    (PyTorch's .grad), or None; `use`: its value is used (step(), clipping),
    else backward() adds to it.

    In a compiled train_step (PyTorchTrainStep), traced once and run for every
    batch, a gradient the step did not zero first is the one the batch before
    left (_T2KCarry). Used untouched, whether there is one is taken to be as it
    was when fit() started, and the step's end checks that it stays so.
    Raises NotImplementedError where that cannot be known: a gradient another
    compiled step left, a gradient a pytorch_if set on one path only."""
    step = _T2K_STEPS[-1] if _T2K_STEPS else None
    if step is None:
        entry = _T2K_GRADIENTS.get(id(variable))
        if entry is None or entry.step is None:
            return None if entry is None else entry.value
        if entry.zeros:
            return ops.zeros_like(variable)
        raise NotImplementedError(
            f"the gradient of {variable.path!r} was left by a compiled training step (fit()), which keeps it in "
            "its graph; call zero_grad() first, or write the loop out")
    entry, fresh = _t2k_touched(variable, step)
    if not use or entry.value is None or entry.present is True:
        return entry.value
    if fresh:
        known = step["assumed"][id(variable)] = step["carried"][id(variable)].known
        return entry.value if known else None
    raise NotImplementedError(
        f"the gradient of {variable.path!r} is used where an if before set it in some batches only (PyTorch "
        "skips a parameter without one); write the loop out")


def _t2k_used_gradient(variable):
    """(gradient, whether there is one: True or a bool tensor) of `variable`, as
    optimizer.step() uses it, or None where there is none (see
    _t2k_stored_gradient)."""
    step = _T2K_STEPS[-1] if _T2K_STEPS else None
    if step is None:
        gradient = _t2k_stored_gradient(variable)
        return None if gradient is None else (gradient, True)
    entry, _ = _t2k_touched(variable, step)
    return None if entry.value is None else (entry.value, entry.present)


def _t2k_touched(variable, step):
    """(`variable`'s gradient entry in the train_step `step` being traced, as
    _t2k_step_entry gives it; whether it is the one carried in, untouched).
    Raises NotImplementedError where that is a gradient another compiled step
    left (unknown here)."""
    entry = _t2k_step_entry(variable, step)
    fresh = step["fresh"].get(id(variable)) is entry
    if fresh and step["carried"][id(variable)].known is None:
        raise NotImplementedError(
            f"the gradient of {variable.path!r} was left by another compiled training step, which keeps it in "
            "its graph; call zero_grad() before this step's first backward(), or write the loops out")
    return entry, fresh


def _t2k_presence(step, key, entry):
    """Whether the gradient `entry` (of the step `step` being traced, or None)
    is there: True, False, or None where a bool tensor says. A carried one the
    step used untouched counts as the presence it took (see
    _t2k_stored_gradient)."""
    if entry.value is None:
        return False
    if entry.present is True:
        return True
    if step is not None and step["fresh"].get(key) is entry and key in step["assumed"]:
        return step["assumed"][key]
    return None


def _t2k_store_gradient(variable, gradient, zeros=False):
    """Sets the stored gradient of `variable`, in the step being traced (if any);
    `zeros`: zero_grad(set_to_none=False)'s."""
    step = _T2K_STEPS[-1] if _T2K_STEPS else None
    _T2K_GRADIENTS[id(variable)] = _T2KGradient(variable, gradient, step, zeros)


def _t2k_end_step(step):
    """At the end of the train_step `step` being traced: its carried gradients
    written back for the next batch, where the step changed them (kept in
    step["written"]: fit() gives those to the code after it); raises
    NotImplementedError where one it used untouched, taking its presence for
    fixed, changes presence."""
    for key, carry in step["carried"].items():
        entry = _T2K_GRADIENTS.get(key)
        if entry is step["fresh"][key]:  # as the batch before left it: the code around keeps its own
            if step["before"][key] is None:
                del _T2K_GRADIENTS[key]
            else:
                _T2K_GRADIENTS[key] = step["before"][key]
            continue
        step["written"][key] = carry
        absent = entry is None or entry.value is None
        assumed = step["assumed"].get(key)
        if assumed is not None and (absent == assumed or (not absent and entry.present is not True)):
            raise NotImplementedError(
                f"the training step uses the gradient of {carry.variable.path!r} before any backward() of its "
                "own, and changes whether there is one for the next batch; write the loop out")
        carry.value.assign(ops.zeros_like(carry.variable) if absent else ops.cast(entry.value, carry.variable.dtype))
        carry.present.assign(False if absent else entry.present)


def pytorch_if(condition, body):
    """PyTorch's `if condition: body` in a compiled train_step, where `condition`
    is a bool tensor of the batch (of its index: `(i + 1) % accum_steps == 0`
    steps the optimizer every accum_steps batches) and `body()` steps
    optimizers, clips and zeroes gradients: both paths are traced
    (keras.ops.cond), and each gradient is afterwards the one of the path
    taken. Outside a compiled step, a plain `if`."""
    step = _T2K_STEPS[-1] if _T2K_STEPS else None
    if step is None:
        if condition:
            body()
        return
    # What either path may read or change exists before them: the optimizers'
    # variables, every gradient of theirs, taken into the step. (An optimizer of
    # a model not built yet, no variables, is built by its first step(), when
    # they exist: Keras' optimizer knows only the variables it was built with.)
    for optimizer in _t2k_optimizers():
        variables = optimizer._torch_variables(frozen=True)
        if variables and not optimizer.built:
            optimizer.build(variables)
        for variable in optimizer._gradient_holders():
            _t2k_step_entry(variable, step)
    before, zeroers = dict(_T2K_GRADIENTS), list(step["zeroers"])
    changed, taken_known = [], []

    def outputs(entries):
        return [(ops.zeros_like(entry.variable) if entry.value is None else ops.cast(entry.value, entry.variable.dtype),
                 ops.convert_to_tensor(entry.value is not None and entry.present, dtype="bool"))
                for entry in entries]

    def taken():
        # The gradients as tensors of this path (Keras' update refuses a mix of
        # this path's and the step's), fresh ones still fresh.
        inside, fresh = {}, dict(step["fresh"])
        for key, entry in before.items():
            if entry.step is step and entry.value is not None:
                copy = inside[key] = _T2KGradient(entry.variable, ops.copy(entry.value), step, entry.zeros,
                                                  entry.present if entry.present is True else ops.copy(entry.present))
                _T2K_GRADIENTS[key] = copy
                if fresh.get(key) is entry:
                    step["fresh"][key] = copy
        body()
        after = dict(_T2K_GRADIENTS)
        step["fresh"].clear()
        step["fresh"].update(fresh)
        changed[:] = [key for key, entry in after.items() if inside.get(key, before.get(key)) is not entry]
        taken_known[:] = [_t2k_presence(step, key, after[key]) for key in changed]
        for key in changed:  # one not taken in before (not an optimizer's): none before
            before.setdefault(key, _T2KGradient(after[key].variable, None, step))
        _T2K_GRADIENTS.clear()
        _T2K_GRADIENTS.update(before)
        step["zeroers"][:] = zeroers  # a zero_grad() on one path covers no later layer
        return outputs(after[key] for key in changed)

    def skipped():
        return outputs(before[key] for key in changed)

    results = ops.cond(condition, taken, skipped)
    for key, (value, present), on_taken in zip(changed, results, taken_known):
        variable, on_skipped = before[key].variable, _t2k_presence(step, key, before[key])
        if on_taken is False and on_skipped is False:
            _T2K_GRADIENTS[key] = _T2KGradient(variable, None, step)
        elif on_taken is True and on_skipped is True:
            _T2K_GRADIENTS[key] = _T2KGradient(variable, value, step)
        else:
            _T2K_GRADIENTS[key] = _T2KGradient(variable, value, step, present=present)


def _t2k_parameters(params, frozen=False):
    """The trainable Keras variables `params` names: a layer or model (PyTorch's
    module.parameters(), its trainable weights now, but those
    pytorch_requires_grad_ froze unless `frozen`), a variable, or a list of them."""
    if params is None:
        return []
    if isinstance(params, keras.layers.Layer):
        if frozen or not _T2K_REQUIRES_GRAD:
            return list(params.trainable_weights)
        trains = _t2k_requires_grad(params)
        return [v for v in params.trainable_weights if trains.get(id(v), True)]
    if isinstance(params, keras.Variable):
        return [params] if params.trainable else []
    if isinstance(params, dict):
        return _t2k_parameters(params["params"], frozen)
    return [v for item in params for v in _t2k_parameters(item, frozen)]


def _t2k_holders(trains, every):
    """Of the parameters `every`, those that may have a gradient: `trains` (those
    that train), and frozen ones with a gradient from before (backward() gives
    them none, but one frozen since keeps the gradient it had, which PyTorch's
    step(), clipping and zero_grad() see)."""
    ids = {id(v) for v in trains}
    return trains + [v for v in every if id(v) not in ids and (id(v) in _T2K_GRADIENTS or id(v) in _T2K_CARRIED)]


def _t2k_parameter_holders(params):
    """_t2k_holders of the parameters `params` names (see _t2k_parameters)."""
    return _t2k_holders(_t2k_parameters(params), _t2k_parameters(params, frozen=True))


def _t2k_initial_lr(optimizer):
    """The rate `optimizer` was made with (PyTorch's initial_lr), kept before a
    schedule replaces it."""
    if not hasattr(optimizer, "_pytorch_initial_lr"):
        optimizer._pytorch_initial_lr = float(ops.convert_to_numpy(optimizer.learning_rate))
    return optimizer._pytorch_initial_lr


def _t2k_current_lr(optimizer):
    """The optimizer's rate now (PyTorch's group["lr"]): its schedule's value at
    this step, or its rate."""
    return float(ops.convert_to_numpy(optimizer.learning_rate))


def _t2k_install_schedule(optimizer, schedule, owner):
    """Makes `schedule` the rate of `optimizer`, on behalf of the scheduler
    `owner`. PyTorch chains the schedulers stepped on one optimizer (each
    multiplies the rate the others left); here the last one made sets the rate,
    and an earlier one raises when stepped again (one made anew each epoch, the
    old one dropped, is fine)."""
    _t2k_initial_lr(optimizer)  # the rate it was made with, kept for parameter groups
    optimizer.learning_rate = schedule
    optimizer._t2k_scheduler = owner


def _t2k_check_scheduler(optimizer, owner):
    if optimizer is not None and getattr(optimizer, "_t2k_scheduler", owner) is not owner:
        raise NotImplementedError(
            f"{type(owner).__name__}.step(): another scheduler was made on this optimizer since; PyTorch chains "
            "schedulers stepped together on one optimizer, which is not supported")


def _t2k_zero_grad(variables_of, set_to_none=True):
    """Forgets the stored gradients of the variables `variables_of()` gives, or,
    `set_to_none=False`, zeroes those that have one (PyTorch leaves a None
    .grad None). In a train_step, the variables it gives later are zeroed too:
    a Keras layer makes its weights at its first call, after the step's
    zero_grad() (PyTorch's parameters exist from the start)."""
    step = _T2K_STEPS[-1] if _T2K_STEPS else None
    if step is not None:
        step["zeroers"].append(variables_of)
    for variable in variables_of():
        key = id(variable)
        if set_to_none:
            if step is not None:
                _T2K_GRADIENTS[key] = _T2KGradient(variable, None, step)
            else:
                _T2K_GRADIENTS.pop(key, None)
            continue
        entry = _T2K_GRADIENTS.get(key) if step is None else _t2k_touched(variable, step)[0]
        known = None if entry is None else _t2k_presence(step, key, entry)
        if entry is None or known is False:
            continue
        if known is None and step is None:
            raise NotImplementedError(
                f"zero_grad(set_to_none=False) of {variable.path!r}, whose gradient a compiled training step "
                "set in some batches only: whether there is one is not known here")
        present = True if known else entry.present
        _T2K_GRADIENTS[key] = _T2KGradient(variable, ops.zeros_like(variable), step, present is True, present)


def _t2k_optimizers():
    """The optimizers made with parameters that are still in use."""
    _T2K_OPTIMIZERS[:] = [ref for ref in _T2K_OPTIMIZERS if ref() is not None]
    return [ref() for ref in _T2K_OPTIMIZERS]


def pytorch_backward(tape, loss):
    """loss.backward(): the gradients of the scalar `loss`, recorded by `tape` (a
    TensorFlow GradientTape around the code that computed it), for the
    parameters of every optimizer, each added to the gradient stored since its
    last zero_grad, as PyTorch accumulates .grad. A persistent tape may be
    asked again (several backward() calls in one step, as a GAN's)."""
    variables, seen = [], set()
    for optimizer in _t2k_optimizers():
        for variable in optimizer._torch_variables():
            if id(variable) not in seen:
                seen.add(id(variable))
                variables.append(variable)
    if getattr(tape, "_recording", False):
        with tape.stop_recording():
            gradients = tape.gradient(loss, variables)
    else:
        gradients = tape.gradient(loss, variables)
    for variable, gradient in zip(variables, gradients):
        if gradient is None:
            continue  # not used by this loss: PyTorch leaves .grad as it was
        gradient = ops.convert_to_tensor(gradient)  # an Embedding's sparse gradient
        stored = _t2k_stored_gradient(variable, use=False)
        _t2k_store_gradient(variable, gradient if stored is None else stored + gradient)


# Whether pytorch_requires_grad_ was called (until then every parameter trains).
_T2K_REQUIRES_GRAD = []


def pytorch_requires_grad_(module, requires_grad=True):
    """module.requires_grad_(flag), and `for p in module.parameters():
    p.requires_grad = flag`: the parameters of `module`'s layers (those it has
    now; their weights may be made later) are left out of (or back in) what
    optimizers and backward() train; the last call that set a layer decides, as
    PyTorch's flag per parameter, and a layer added later (a new head) trains.
    The flag is the layer's own (`_pytorch_requires_grad`). The layers keep
    running as before: a frozen BatchNorm in training mode still uses its
    batch's statistics, as PyTorch's does (Keras' trainable = False would
    switch it to inference)."""
    for layer in module._flatten_layers(include_self=True):
        layer._pytorch_requires_grad = bool(requires_grad)
    _T2K_REQUIRES_GRAD[:] = [True]
    return module


def _t2k_requires_grad(root):
    """id(variable) -> whether it trains, for the variables of `root`'s layers:
    the last pytorch_requires_grad_ setting of the layer that owns it (True if
    none)."""
    trains = {}
    for layer in root._flatten_layers(include_self=True):
        setting = getattr(layer, "_pytorch_requires_grad", True)
        for variable in layer._trainable_variables + layer._non_trainable_variables:
            trains[id(variable)] = setting
    return trains


def pytorch_no_grad(fn):
    """@torch.no_grad() (or @torch.inference_mode()) on a function or method: the
    tensors it returns carry no gradient (ops.stop_gradient), as PyTorch computes
    them outside autograd (a target network, a helper called in a training
    step)."""
    import functools

    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        return keras.tree.map_structure(lambda v: ops.stop_gradient(v) if ops.is_tensor(v) else v,
                                        fn(*args, **kwargs))

    return wrapped


def pytorch_zero_grad(module, set_to_none=True):
    """module.zero_grad(): forgets the stored gradients of its parameters,
    frozen ones too."""
    _t2k_zero_grad(lambda: _t2k_parameter_holders(module), set_to_none)


def pytorch_clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """torch.nn.utils.clip_grad_norm_: the stored gradients of `parameters` scaled
    by min(1, max_norm / (total_norm + 1e-6)), total_norm being the norm of all
    of them together (PyTorch's 1e-6); returns total_norm."""
    clipped = _t2k_parameter_holders(parameters)  # a frozen one's earlier gradient counts
    # backward() computes the gradients of the optimizers' parameters only; PyTorch
    # has the others' too, and their norm would be in the total.
    held = {id(v) for optimizer in _t2k_optimizers() for v in optimizer._torch_variables(frozen=True)}
    if any(id(v) not in held for v in clipped):
        raise NotImplementedError("clip_grad_norm_ of parameters no optimizer holds (backward() does not compute "
                                  "their gradients here; PyTorch's norm would include them)")
    stored = [(v, g) for v in clipped for g in [_t2k_stored_gradient(v)] if g is not None]
    if not stored:
        return ops.convert_to_tensor(0.0)
    total, scaled = _t2k_clip_by_norm([g for _, g in stored], max_norm, norm_type)
    if error_if_nonfinite and not bool(ops.all(ops.isfinite(total))):
        raise RuntimeError(f"The total norm of order {float(norm_type)} for gradients is non-finite")
    for (variable, _), gradient in zip(stored, scaled):
        _t2k_store_gradient(variable, gradient)
    return total


def _t2k_clip_by_norm(gradients, max_norm, norm_type=2.0):
    """(total norm, `gradients` scaled as clip_grad_norm_ scales them): the norm of
    the gradients' norms, and each gradient times min(1, max_norm / (total +
    1e-6)) (PyTorch's 1e-6)."""
    norm_type = float(norm_type)
    if norm_type == float("inf"):
        total = ops.max(ops.stack([ops.max(ops.abs(g)) for g in gradients]))
    else:
        norms = ops.stack([ops.power(ops.sum(ops.power(ops.abs(g), norm_type)), 1.0 / norm_type) for g in gradients])
        total = ops.power(ops.sum(ops.power(norms, norm_type)), 1.0 / norm_type)
    scale = ops.minimum(float(max_norm) / (total + 1e-6), 1.0)
    return total, [g * ops.cast(scale, g.dtype) for g in gradients]


def pytorch_clip_grad_value_(parameters, clip_value):
    """torch.nn.utils.clip_grad_value_: the stored gradients of `parameters`
    clipped to [-clip_value, clip_value]."""
    for variable in _t2k_parameter_holders(parameters):
        gradient = _t2k_stored_gradient(variable)
        if gradient is not None:
            _t2k_store_gradient(variable, ops.clip(gradient, -float(clip_value), float(clip_value)))


def _t2k_nonzero(value):
    """Whether an optimizer setting is in use: a nonzero number, or a variable
    (a schedule changes it: OneCycleLR's momentum)."""
    return isinstance(value, keras.Variable) or bool(value)


class _PyTorchOptimizer(keras.optimizers.Optimizer):
    """A Keras optimizer whose update is a torch.optim optimizer's, step for step
    (pitfalls P53, P54: Keras' SGD puts the learning rate inside the momentum
    buffer, its Adam adds epsilon before the bias correction, its RMSprop inside
    the square root, and its weight_decay is always decoupled). `weight_decay`
    here is PyTorch's: added to the gradient (L2), except where a subclass says
    otherwise (AdamW). The learning rate may be a Keras schedule, evaluated at
    each step as PyTorch's current lr is."""

    def __init__(self, learning_rate, weight_decay=0.0, name=None, params=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if isinstance(learning_rate, (int, float)):
            self._pytorch_initial_lr = float(learning_rate)  # known before a traced step asks
        self.torch_weight_decay = float(weight_decay)
        self.params = params
        self._group_of = None  # variable key -> its parameter group's (lr scale, weight decay)
        if params is not None:
            import weakref  # a dropped optimizer's parameters are no longer trained

            _T2K_OPTIMIZERS.append(weakref.ref(self))

    def _torch_variables(self, frozen=False):
        """The trainable variables of `params`, read now (a Keras layer makes its
        weights at its first call, after the optimizer is made): PyTorch's
        optimizer.param_groups, flattened. Each group's own "lr" and
        "weight_decay" are kept (self._settings, one dict per group): its rate is
        the optimizer's (or its schedule's) times group lr / the optimizer's
        initial lr."""
        groups = self.params if isinstance(self.params, (list, tuple)) and self.params and all(
            isinstance(g, dict) for g in self.params) else [{"params": self.params}]
        if getattr(self, "_settings", None) is None:
            base = _t2k_initial_lr(self)
            self._settings = []
            for group in groups:
                unknown = set(group) - {"params", "lr", "weight_decay"}
                if unknown:
                    raise ValueError(f"{type(self).__name__}: parameter group options {sorted(unknown)} "
                                     "are not supported")
                self._settings.append({"scale": float(group["lr"]) / base if "lr" in group else 1.0,
                                       "weight_decay": float(group.get("weight_decay", self.torch_weight_decay))})
        variables, self._group_of = [], {}
        for group, settings in zip(groups, self._settings):
            for variable in _t2k_parameters(group["params"], frozen):
                if self._var_key(variable) not in self._group_of:
                    self._group_of[self._var_key(variable)] = settings
                    variables.append(variable)
        return variables

    @property
    def param_groups(self):
        """optimizer.param_groups: a dict per group whose "lr" and "weight_decay"
        read and set that group's (PyTorch's manual rate changes:
        `for g in optimizer.param_groups: g["lr"] = lr`), and "params" its
        variables. Setting a rate needs a constant rate (no schedule) and eager
        steps, as the converted training code runs."""
        self._torch_variables()
        return [_T2KParamGroup(self, settings) for settings in self._settings]

    def step(self, closure=None):
        """optimizer.step(): one update of this optimizer's parameters by the
        gradients backward() stored (pytorch_backward); a parameter without one
        (none since zero_grad) is left alone, as PyTorch leaves it."""
        if closure is not None:
            raise NotImplementedError("optimizer.step(closure) is not supported")
        if not self.built:
            self.build(self._torch_variables(frozen=True))
        held = [(v, *g) for v in self._gradient_holders() for g in [_t2k_used_gradient(v)] if g is not None]
        if not held:
            return
        # A parameter whose gradient a compiled step has in some batches only (a
        # pytorch_if's zero_grad(), a frozen part's leftover) is updated with the
        # others, then given back its value and state where it has none.
        maybe = [(t, ops.copy(t), present) for v, _, present in held if present is not True
                 for t in self._state_of(v)]
        # Keras' update of these (apply() below keeps the trained ones only: model.fit's).
        super().apply([g for _, g, _ in held], [v for v, _, _ in held])
        for variable, before, present in maybe:
            variable.assign(ops.where(present, variable, before))

    def _gradient_holders(self):
        """This optimizer's parameters that may have a gradient (_t2k_holders)."""
        return _t2k_holders(self._torch_variables(), self._torch_variables(frozen=True))

    def apply(self, grads, trainable_variables=None):
        """Keras' update (model.fit's train step calls it with the model's
        trainable variables): only the parameters this optimizer was made with
        move, as PyTorch's optimizer.step() moves only its param_groups (a part
        of the model, or none of the layers pytorch_requires_grad_ froze), each
        with its group's settings."""
        if self.params is not None and trainable_variables is not None:
            own = {id(v) for v in self._torch_variables()}
            if not self.built:  # every parameter, frozen ones too, as step() builds
                self.build(self._torch_variables(frozen=True))
            if self.global_clipnorm:
                held = {id(v) for v in self._torch_variables(frozen=True)}
                if any(id(v) not in held for v in trainable_variables):
                    raise NotImplementedError(
                        "clip_grad_norm_ of a model whose parameters this optimizer holds only in part, in "
                        "model.fit: PyTorch's norm covers the others too")
            pairs = [(g, v) for g, v in zip(grads, trainable_variables) if id(v) in own]
            grads, trainable_variables = [g for g, _ in pairs], [v for _, v in pairs]
        return super().apply(grads, trainable_variables)

    def _clip_gradients(self, grads):
        # global_clipnorm (set for a model.fit of a loop that called
        # clip_grad_norm_): PyTorch's clip, every gradient times
        # min(1, max_norm / (total 2-norm + 1e-6)); Keras' own divides by
        # max(norm, max_norm). clipvalue is the same clamp in both.
        if self.global_clipnorm:
            _, scaled = _t2k_clip_by_norm([g for g in grads if g is not None], self.global_clipnorm)
            scaled = iter(scaled)
            return [None if g is None else next(scaled) for g in grads]
        return super()._clip_gradients(grads)

    def zero_grad(self, set_to_none=True):
        """optimizer.zero_grad(): forgets the stored gradients of its parameters,
        frozen ones too (set_to_none=False: zeroes them, which still move
        momentum and Adam)."""
        _t2k_zero_grad(self._gradient_holders, set_to_none)

    def _slots(self, variables, name, initial=0.0):
        # An initializer, not an assign: build() may run while a tf.function traces
        # the first step, and an assign there would run again at every step.
        initializer = keras.initializers.Constant(initial) if initial else "zeros"
        slots = self.add_optimizer_variables(variables, name, initializer=initializer)
        self._t2k_state.append(slots)
        return slots

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        # PyTorch's state["step"]: each parameter counts its own updates, from its
        # first gradient (a layer unfrozen later starts at 1: Adam's bias correction).
        self._param_steps = [self.add_variable((), initializer="zeros", dtype="int64", name="step")
                             for _ in variables]
        self._t2k_state = [self._param_steps]  # per-parameter state lists (_slots adds each)

    def _state_of(self, variable):
        """`variable` and its optimizer state (its update count, momentum...)."""
        index = self._get_variable_index(variable)
        return [variable] + [state[index] for state in self._t2k_state]

    def _next_step(self, variable):
        """`variable`'s update number, from 1, counted (as `variable`'s dtype)."""
        counter = self._param_steps[self._get_variable_index(variable)]
        step = counter + 1
        self.assign(counter, step)
        return ops.cast(step, variable.dtype)

    def _prepare(self, gradient, variable, learning_rate):
        """(gradient with the L2 term, learning rate, update number from 1) as `variable`'s dtype."""
        gradient = ops.cast(gradient, variable.dtype)
        scale, weight_decay = self._group(variable)
        if weight_decay:
            gradient = gradient + weight_decay * variable
        return gradient, ops.cast(learning_rate, variable.dtype) * scale, self._next_step(variable)

    def _group(self, variable):
        """(lr scale, weight decay) of `variable`'s parameter group."""
        settings = None if self._group_of is None else self._group_of.get(self._var_key(variable))
        if settings is None:
            return 1.0, self.torch_weight_decay
        return settings["scale"], settings["weight_decay"]


class _T2KParamGroup(dict):
    """One entry of a runtime optimizer's param_groups (see there)."""

    def __init__(self, optimizer, settings):
        super().__init__()
        self.optimizer, self.settings = optimizer, settings

    def _base(self):
        return _t2k_current_lr(self.optimizer)

    def __getitem__(self, key):
        if key == "lr":
            return self._base() * self.settings["scale"]
        if key == "weight_decay":
            return self.settings["weight_decay"]
        if key == "params":
            return [v for v in self.optimizer._torch_variables()
                    if self.optimizer._group_of[self.optimizer._var_key(v)] is self.settings]
        raise KeyError(key)

    def __setitem__(self, key, value):
        if key == "lr":
            if isinstance(self.optimizer._learning_rate, keras.optimizers.schedules.LearningRateSchedule):
                raise ValueError("setting a param group's lr while a scheduler sets the rate is not supported")
            self.settings["scale"] = float(value) / self._base()
        elif key == "weight_decay":
            self.settings["weight_decay"] = float(value)
        else:
            raise KeyError(f"param group option {key!r} is not supported")

    def get(self, key, default=None):
        try:
            return self[key]
        except KeyError:
            return default

    def keys(self):
        return ["params", "lr", "weight_decay"]


class PyTorchSGD(_PyTorchOptimizer):
    """torch.optim.SGD: with momentum mu, buf = g on the first step, then
    buf = mu * buf + (1 - dampening) * g; the step is lr * buf (Nesterov:
    lr * (g + mu * buf)); the learning rate stays outside the buffer, so a
    schedule changes the step as PyTorch's does."""

    def __init__(self, params=None, learning_rate=0.001, momentum=0.0, dampening=0.0, weight_decay=0.0,
                 nesterov=False, name="PyTorchSGD", **kwargs):
        super().__init__(learning_rate, weight_decay, name=name, params=params, **kwargs)
        self.momentum, self.dampening, self.nesterov = float(momentum), float(dampening), nesterov

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = self._slots(variables, "momentum") if _t2k_nonzero(self.momentum) else []

    def update_step(self, gradient, variable, learning_rate):
        g, lr, step = self._prepare(gradient, variable, learning_rate)
        if self.momentums:
            buf = self.momentums[self._get_variable_index(variable)]
            later = self.momentum * buf + (1.0 - self.dampening) * g
            self.assign(buf, ops.where(step > 1, later, g))
            g = g + self.momentum * buf if self.nesterov else ops.convert_to_tensor(buf)
        self.assign_sub(variable, lr * g)


class PyTorchAdam(_PyTorchOptimizer):
    """torch.optim.Adam (and AdamW, `decoupled=True`): m and v as Keras keeps
    them, but the step is lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps):
    epsilon after the bias correction. amsgrad keeps the largest v. AdamW first
    scales the weights by 1 - lr * weight_decay."""

    def __init__(self, params=None, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.0,
                 amsgrad=False, decoupled=False, name="PyTorchAdam", **kwargs):
        super().__init__(learning_rate, weight_decay, name=name, params=params, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.amsgrad, self.decoupled = amsgrad, decoupled

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = self._slots(variables, "momentum")
        self.velocities = self._slots(variables, "velocity")
        self.velocity_maxes = self._slots(variables, "velocity_max") if self.amsgrad else []

    def _prepare(self, gradient, variable, learning_rate):
        if not self.decoupled:
            return super()._prepare(gradient, variable, learning_rate)
        scale, weight_decay = self._group(variable)
        lr = ops.cast(learning_rate, variable.dtype) * scale
        if weight_decay:
            self.assign(variable, variable * (1.0 - lr * weight_decay))
        return ops.cast(gradient, variable.dtype), lr, self._next_step(variable)

    def update_step(self, gradient, variable, learning_rate):
        g, lr, step = self._prepare(gradient, variable, learning_rate)
        index = self._get_variable_index(variable)
        m, v = self.momentums[index], self.velocities[index]
        self.assign(m, self.beta_1 * m + (1.0 - self.beta_1) * g)
        self.assign(v, self.beta_2 * v + (1.0 - self.beta_2) * g * g)
        if self.amsgrad:
            v_max = self.velocity_maxes[index]
            self.assign(v_max, ops.maximum(v_max, v))
            v = v_max
        correction_1 = 1.0 - ops.power(ops.cast(self.beta_1, variable.dtype), step)
        correction_2 = 1.0 - ops.power(ops.cast(self.beta_2, variable.dtype), step)
        denom = ops.sqrt(v) / ops.sqrt(correction_2) + self.epsilon
        self.assign_sub(variable, lr / correction_1 * m / denom)


class PyTorchAdamW(PyTorchAdam):
    """torch.optim.AdamW: Adam with decoupled weight decay (PyTorch's default 0.01,
    Keras AdamW's 0.004)."""

    def __init__(self, params=None, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.01,
                 amsgrad=False, name="PyTorchAdamW", **kwargs):
        kwargs.pop("decoupled", None)
        super().__init__(params, learning_rate, beta_1, beta_2, epsilon, weight_decay, amsgrad, decoupled=True,
                         name=name, **kwargs)


class PyTorchRMSprop(_PyTorchOptimizer):
    """torch.optim.RMSprop: sq = alpha * sq + (1 - alpha) * g^2, the step
    g / (sqrt(sq) + eps) (epsilon outside the root; centered: sqrt(sq - avg^2));
    with momentum, buf = momentum * buf + that, and the step is lr * buf."""

    def __init__(self, params=None, learning_rate=0.01, alpha=0.99, epsilon=1e-8, weight_decay=0.0, momentum=0.0,
                 centered=False, name="PyTorchRMSprop", **kwargs):
        super().__init__(learning_rate, weight_decay, name=name, params=params, **kwargs)
        self.alpha, self.epsilon, self.momentum, self.centered = float(alpha), float(epsilon), float(momentum), centered

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.square_averages = self._slots(variables, "square_average")
        self.gradient_averages = self._slots(variables, "gradient_average") if self.centered else []
        self.momentums = self._slots(variables, "momentum") if _t2k_nonzero(self.momentum) else []

    def update_step(self, gradient, variable, learning_rate):
        g, lr, _ = self._prepare(gradient, variable, learning_rate)
        index = self._get_variable_index(variable)
        sq = self.square_averages[index]
        self.assign(sq, self.alpha * sq + (1.0 - self.alpha) * g * g)
        mean_square = ops.convert_to_tensor(sq)
        if self.centered:
            avg = self.gradient_averages[index]
            self.assign(avg, self.alpha * avg + (1.0 - self.alpha) * g)
            mean_square = mean_square - avg * avg
        update = g / (ops.sqrt(mean_square) + self.epsilon)
        if self.momentums:
            buf = self.momentums[index]
            self.assign(buf, self.momentum * buf + update)
            update = ops.convert_to_tensor(buf)
        self.assign_sub(variable, lr * update)


class PyTorchAdagrad(_PyTorchOptimizer):
    """torch.optim.Adagrad: sum += g^2, the step lr / (1 + (t - 1) * lr_decay) *
    g / (sqrt(sum) + eps) (PyTorch: eps 1e-10, the sum starting at
    initial_accumulator_value 0; Keras: 1e-7 and 0.1)."""

    def __init__(self, params=None, learning_rate=0.01, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                 epsilon=1e-10, name="PyTorchAdagrad", **kwargs):
        super().__init__(learning_rate, weight_decay, name=name, params=params, **kwargs)
        self.lr_decay, self.epsilon = float(lr_decay), float(epsilon)
        self.initial_accumulator_value = float(initial_accumulator_value)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.sums = self._slots(variables, "sum", self.initial_accumulator_value)

    def update_step(self, gradient, variable, learning_rate):
        g, lr, step = self._prepare(gradient, variable, learning_rate)
        total = self.sums[self._get_variable_index(variable)]
        self.assign(total, total + g * g)
        lr = lr / (1.0 + (step - 1.0) * self.lr_decay)
        self.assign_sub(variable, lr * g / (ops.sqrt(total) + self.epsilon))


class PyTorchLRSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """A torch.optim.lr_scheduler schedule as a Keras learning-rate schedule.

    Keras evaluates a schedule at every optimizer step; a PyTorch scheduler
    changes the rate when the training code calls scheduler.step(), once per
    epoch in the usual loop, after every batch for OneCycleLR (pitfalls P57).
    Without `steps_per_epoch`, the schedule counts its own steps: `step()` is
    scheduler.step() (PyTorchSchedulerStep calls it at each epoch's end in
    model.fit). With it, the count is floor(optimizer step / steps_per_epoch).
    Subclasses give `rate(epoch)` (keras.ops of a float64 count) from
    `learning_rate`, the optimizer's initial rate."""

    def __init__(self, learning_rate, steps_per_epoch=None):
        # PyTorch's scheduler(optimizer, ...): this schedule becomes the optimizer's
        # rate, from the optimizer's rate now (PyTorch's schedulers go on from the
        # group's lr: a scheduler made anew each epoch, a second phase's).
        self.optimizer = learning_rate if isinstance(learning_rate, keras.optimizers.Optimizer) else None
        if self.optimizer is not None:
            learning_rate = _t2k_current_lr(self.optimizer)
            _t2k_install_schedule(self.optimizer, self, self)
        self.learning_rate = float(learning_rate)
        self.steps_per_epoch = None if steps_per_epoch is None else int(steps_per_epoch)
        self.epoch = keras.Variable(0, dtype="int64", trainable=False, name="scheduler_steps")

    def step(self):
        """scheduler.step(): the next epoch's rate from now on."""
        _t2k_check_scheduler(self.optimizer, self)
        self.epoch.assign_add(1)

    def get_last_lr(self):
        """scheduler.get_last_lr(): [the rate now]."""
        iterations = self.optimizer.iterations if self.optimizer is not None else 0
        return [float(ops.convert_to_numpy(self(iterations)))]

    @property
    def last_epoch(self):
        """scheduler.last_epoch: the number of step() calls (its count of
        optimizer steps with `steps_per_epoch`)."""
        if self.steps_per_epoch is not None and self.optimizer is not None:
            return int(ops.convert_to_numpy(self.optimizer.iterations)) // self.steps_per_epoch
        return int(ops.convert_to_numpy(self.epoch))

    def __call__(self, step):
        # In float64, as PyTorch computes its rates (in Python floats); then float32.
        if self.steps_per_epoch is None:
            epoch = ops.cast(self.epoch, "float64")
        else:
            epoch = ops.floor_divide(ops.cast(step, "float64"), float(self.steps_per_epoch))
        return ops.cast(self.rate(epoch), "float32")

    def get_config(self):
        return {"learning_rate": self.learning_rate, "steps_per_epoch": self.steps_per_epoch}


class PyTorchSchedulerStep(keras.callbacks.Callback):
    """Calls scheduler.step() after each epoch of model.fit (each batch with
    `per_batch`, OneCycleLR's way), where PyTorch's loop calls it."""

    def __init__(self, scheduler, per_batch=False):
        super().__init__()
        self.scheduler, self.per_batch = scheduler, per_batch

    def on_train_batch_end(self, batch, logs=None):
        if self.per_batch:
            self.scheduler.step()

    def on_epoch_end(self, epoch, logs=None):
        if not self.per_batch:
            self.scheduler.step()


class PyTorchCriterion(keras.losses.Loss):
    """model.compile(loss=...) for a PyTorch loss: `fn(input, target)` (a loss
    module such as PyTorchLoss(pytorch_cross_entropy), or a function) gives the
    batch's loss, already reduced. Keras calls a loss as loss(y_true, y_pred) and
    its Loss casts y_true to float and reshapes it to y_pred's rank; here both
    are passed as they are (class-index targets stay integers), in PyTorch's
    order. The last batch's value is kept in `last` (PyTorchBatchLosses reads it:
    Keras' logs["loss"] is the epoch's running mean)."""

    def __init__(self, fn, name="pytorch_criterion"):
        super().__init__(name=name)
        self.fn = fn
        self.last = keras.Variable(0.0, trainable=False, name="last_loss")

    def __call__(self, y_true, y_pred, sample_weight=None):
        if sample_weight is not None:
            raise ValueError("PyTorchCriterion: sample weights are not supported (PyTorch's loss weighs "
                             "its own samples)")
        loss = self.fn(y_pred, y_true)
        self.last.assign(ops.cast(loss, "float32"))
        return loss


class PyTorchBatchLosses(keras.callbacks.Callback):
    """Keeps the loss of each training batch of model.fit in `losses`, as Python
    floats (PyTorch's loss.item(); the model is compiled with a
    PyTorchCriterion, which keeps the batch's value: Keras' logs["loss"] is the
    epoch's running mean)."""

    def __init__(self):
        super().__init__()
        self.losses = []

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(float(ops.convert_to_numpy(self.model.loss.last)))


class PyTorchBatchLogs(keras.callbacks.Callback):
    """Keeps the logs of each training batch of fit() in `logs`, a dict per batch
    of Python numbers: the values a PyTorchTrainStep's train_step returns, which
    its loop read with .item() or x.size(0)."""

    def __init__(self):
        super().__init__()
        self.logs = []

    def on_train_batch_end(self, batch, logs=None):
        # A Python float, int or bool, as PyTorch's item() of that dtype gives (Keras
        # hands the callbacks floats: the step kept the types of its values).
        types = getattr(self.model, "_t2k_log_types", {})
        self.logs.append({key: types.get(key, float)(ops.convert_to_numpy(value).item())
                          for key, value in (logs or {}).items()})

    def on_test_batch_end(self, batch, logs=None):
        self.on_train_batch_end(batch, logs)


class _T2KBatches(keras.utils.PyDataset):
    """A loader's batches as fit() data: item i is (batch i, [i]), so that
    train_step receives the batch as the PyTorch loop did (a tensor, a tuple of
    any length, a dict) in data[0], and its index in the pass (enumerate's,
    from 0) in data[1][0]; Keras would take a tuple apart as (x, y,
    sample_weight), and needs arrays of rank 1 at least. The index is a
    float64 (exact to 2**53), so that arithmetic with a Python float
    (`(i + 1) % accum` of accum = 12 / 4) works as Python's."""

    def __init__(self, loader):
        super().__init__(workers=getattr(loader, "workers", 1), use_multiprocessing=False)
        self.loader = loader

    def __len__(self):
        return len(self.loader)

    def __getitem__(self, index):
        return (self.loader[index], np.array([index], dtype="float64"))

    def on_epoch_end(self):
        if hasattr(self.loader, "on_epoch_end"):
            self.loader.on_epoch_end()


def _t2k_logs(model, logs):
    """A step's logs, with the Python type of each value kept on `model`
    (PyTorchBatchLogs gives ints and bools back); a value for an empty one
    (fit() and evaluate() need one from each step)."""
    if not logs:
        logs = {"steps": ops.ones((), dtype="int32")}
    types = {}
    for key, value in logs.items():
        if isinstance(value, (bool, int)):  # a size known when traced: x.size(1)
            types[key] = type(value)
            continue
        dtype = keras.backend.standardize_dtype(getattr(value, "dtype", "float32"))
        types[key] = bool if dtype == "bool" else int if "int" in dtype else float
    model._t2k_log_types = types
    return logs


def _t2k_wrap_step(cls, name, run):
    """Makes the `name` method (train_step, test_step) the subclass `cls`
    defines run through `run(self, step, data)`."""
    step = cls.__dict__.get(name)
    if step is None:
        return

    def wrapped(self, data):
        return run(self, step, data)

    wrapped.__doc__, wrapped.__wrapped__ = step.__doc__, step
    setattr(cls, name, wrapped)


def _t2k_over_batches(method, loader, kwargs):
    """fit() / evaluate() (`method`) over the batches of `loader`; None when it
    has none, where PyTorch's loop runs no step (Keras raises)."""
    if len(loader) == 0:
        return None
    return method(_T2KBatches(loader), **kwargs)


class PyTorchTrainStep(keras.Model):
    """The base of a converted training loop that fit() cannot run with a compiled
    loss (several losses, a GAN's two optimizers, gradient accumulation): a
    subclass's train_step(data) is the loop's body for one batch (data[0], its
    index data[1][0]), with the models, optimizers and losses of the code
    around it, and returns the values the loop recorded (loss.item()).
    fit(loader) runs it on each batch of the loader (a PyTorchDataLoader), in a
    compiled graph. The model holds no variables of its own; compile() needs
    no optimizer or loss.

    A gradient the step does not zero before its first backward() goes from
    one batch to the next in variables (_T2KCarry), as PyTorch's .grad adds up
    until zero_grad(); fit() takes them from the code before it and leaves the
    last batch's to the code after it."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)

        def run(self, step, data):
            bookkeeping = {"zeroers": [], "carried": {}, "fresh": {}, "before": {}, "assumed": {}, "written": {}}
            _T2K_STEPS.append(bookkeeping)
            try:
                logs = step(self, data)
                _t2k_end_step(bookkeeping)
            finally:
                _T2K_STEPS.pop()
            self._t2k_carried.update(bookkeeping["written"])
            return _t2k_logs(self, logs)

        _t2k_wrap_step(cls, "train_step", run)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._t2k_carried = {}  # id(variable) -> _T2KCarry, of the steps traced

    def fit(self, loader, **kwargs):
        for carry in _T2K_CARRIED.values():
            carry.load()
        try:
            return _t2k_over_batches(super().fit, loader, kwargs)
        finally:
            for carry in self._t2k_carried.values():
                carry.save()


class PyTorchEvalStep(keras.Model):
    """The base of a converted evaluation loop (no backward()): a subclass's
    test_step(data) is the loop's body for one batch (data[0]) and returns the
    values the loop's Python code reads (loss.item(), x.size(0)). evaluate(loader)
    runs it on each batch of the loader, in a compiled graph."""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        _t2k_wrap_step(cls, "test_step", lambda self, step, data: _t2k_logs(self, step(self, data)))

    def evaluate(self, loader, **kwargs):
        return _t2k_over_batches(super().evaluate, loader, kwargs)


class PyTorchStepLR(PyTorchLRSchedule):
    """StepLR: the rate times gamma every step_size epochs."""

    def __init__(self, learning_rate, step_size, gamma=0.1, steps_per_epoch=None):
        super().__init__(learning_rate, steps_per_epoch)
        self.step_size, self.gamma = int(step_size), float(gamma)

    def rate(self, epoch):
        return self.learning_rate * ops.power(self.gamma, ops.floor_divide(epoch, float(self.step_size)))


class PyTorchMultiStepLR(PyTorchLRSchedule):
    """MultiStepLR: the rate times gamma at each milestone epoch reached."""

    def __init__(self, learning_rate, milestones, gamma=0.1, steps_per_epoch=None):
        super().__init__(learning_rate, steps_per_epoch)
        self.milestones, self.gamma = [int(m) for m in milestones], float(gamma)

    def rate(self, epoch):
        passed = sum(ops.cast(epoch >= m, "float64") for m in self.milestones)
        return self.learning_rate * ops.power(self.gamma, passed)


class PyTorchExponentialLR(PyTorchLRSchedule):
    """ExponentialLR: the rate times gamma every epoch."""

    def __init__(self, learning_rate, gamma, steps_per_epoch=None):
        super().__init__(learning_rate, steps_per_epoch)
        self.gamma = float(gamma)

    def rate(self, epoch):
        return self.learning_rate * ops.power(self.gamma, epoch)


class PyTorchCosineAnnealingLR(PyTorchLRSchedule):
    """CosineAnnealingLR: eta_min + (lr - eta_min) (1 + cos(pi epoch / T_max)) / 2,
    rising again after T_max as PyTorch's does (Keras' CosineDecay stays at its
    floor)."""

    def __init__(self, learning_rate, T_max, eta_min=0.0, steps_per_epoch=None):
        super().__init__(learning_rate, steps_per_epoch)
        self.T_max, self.eta_min = int(T_max), float(eta_min)

    def rate(self, epoch):
        cosine = ops.cos(np.pi * epoch / self.T_max)
        return self.eta_min + (self.learning_rate - self.eta_min) * (1.0 + cosine) / 2.0


class PyTorchCosineAnnealingWarmRestarts(PyTorchLRSchedule):
    """CosineAnnealingWarmRestarts: a cosine from the rate down to eta_min over
    T_i epochs, restarting at the rate; T_0 epochs first, each cycle T_mult times
    longer (the epoch's place in its cycle as PyTorch computes it for an epoch
    count)."""

    def __init__(self, learning_rate, T_0, T_mult=1, eta_min=0.0, steps_per_epoch=None):
        super().__init__(learning_rate, steps_per_epoch)
        self.T_0, self.T_mult, self.eta_min = int(T_0), int(T_mult), float(eta_min)

    def rate(self, epoch):
        if self.T_mult == 1:
            t_cur, t_i = ops.mod(epoch, float(self.T_0)), float(self.T_0)
        else:
            n = ops.floor(ops.log(epoch / self.T_0 * (self.T_mult - 1) + 1.0) / np.log(self.T_mult))
            t_cur = epoch - self.T_0 * (ops.power(float(self.T_mult), n) - 1.0) / (self.T_mult - 1)
            t_i = self.T_0 * ops.power(float(self.T_mult), n)
        cosine = ops.cos(np.pi * t_cur / t_i)
        return self.eta_min + (self.learning_rate - self.eta_min) * (1.0 + cosine) / 2.0


class PyTorchLinearLR(PyTorchLRSchedule):
    """LinearLR: the rate times a factor going linearly from start_factor to
    end_factor over total_iters epochs, then end_factor."""

    def __init__(self, learning_rate, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, steps_per_epoch=None):
        super().__init__(learning_rate, steps_per_epoch)
        self.start_factor, self.end_factor, self.total_iters = float(start_factor), float(end_factor), int(total_iters)

    def rate(self, epoch):
        done = ops.minimum(epoch, float(self.total_iters)) / self.total_iters
        return self.learning_rate * (self.start_factor + (self.end_factor - self.start_factor) * done)


class PyTorchLambdaLR(PyTorchLRSchedule):
    """LambdaLR: the rate times lr_lambda(epoch). As PyTorch's, the function is
    called at construction (epoch 0) and at each scheduler.step(), with the
    count as a Python int (any Python code: min(), an if of a warm-up), and its
    value kept in a variable that compiled steps read; in a compiled
    train_step (pytorch_if), with the count as a float64 tensor. Within a
    SequentialLR, or with `steps_per_epoch`, it is given a float64 tensor."""

    def __init__(self, learning_rate, lr_lambda, steps_per_epoch=None):
        super().__init__(learning_rate, steps_per_epoch)
        self.lr_lambda = lr_lambda
        self.factor = keras.Variable(float(lr_lambda(0)), dtype="float64", trainable=False, name="lr_lambda")

    def step(self):
        super().step()
        if _T2K_STEPS:  # a train_step being traced: the count is a tensor there
            value = self.lr_lambda(ops.cast(self.epoch, "float64"))
        else:
            value = float(self.lr_lambda(int(ops.convert_to_numpy(self.epoch))))
        self.factor.assign(ops.cast(value, "float64"))

    def rate(self, epoch):
        return self.learning_rate * self.lr_lambda(epoch)

    def __call__(self, step):
        if self.steps_per_epoch is None:
            return ops.cast(self.learning_rate * self.factor, "float32")
        return super().__call__(step)


class PyTorchSequentialLR(PyTorchLRSchedule):
    """SequentialLR: schedules[i] from epoch milestones[i - 1] on, counting its
    epochs from there (each with the optimizer's initial rate)."""

    def __init__(self, learning_rate, schedules, milestones, steps_per_epoch=None):
        super().__init__(learning_rate, steps_per_epoch)
        self.schedules, self.milestones = list(schedules), [int(m) for m in milestones]
        if self.optimizer is not None:
            # PyTorch's SequentialLR restores the initial rate and steps each
            # schedule by its closed form, from there.
            self.learning_rate = _t2k_initial_lr(self.optimizer)
            for schedule in self.schedules:
                schedule.learning_rate = self.learning_rate

    def rate(self, epoch):
        result = self.schedules[0].rate(epoch)
        for start, schedule in zip(self.milestones, self.schedules[1:]):
            result = ops.where(epoch >= start, schedule.rate(epoch - start), result)
        return result


class PyTorchOneCycleLR(PyTorchLRSchedule):
    """OneCycleLR, stepped after every batch: from max_lr / div_factor up to max_lr
    over pct_start of total_steps, then down to that / final_div_factor (three_phase:
    back to the start, then down), by cosine or linear annealing; the rate of
    `optimizer` (None: used as a Keras schedule on its own). With cycle_momentum,
    the optimizer's momentum (SGD, RMSprop) or beta_1 (Adam) goes the other way,
    max_momentum to base_momentum and back, set at each step() as PyTorch sets it
    (a variable of the optimizer from then on, which a compiled step reads)."""

    def __init__(self, optimizer, max_lr, total_steps, pct_start=0.3, anneal_strategy="cos", div_factor=25.0,
                 final_div_factor=1e4, three_phase=False, cycle_momentum=True, base_momentum=0.85,
                 max_momentum=0.95, steps_per_epoch=None):
        if isinstance(max_lr, (list, tuple)):
            raise ValueError("PyTorchOneCycleLR: a max_lr per parameter group is not supported")
        super().__init__(float(max_lr) / div_factor, steps_per_epoch)
        if optimizer is not None:  # its rate is this schedule's; its own is not used
            self.optimizer = optimizer
            _t2k_install_schedule(optimizer, self, self)
        self.max_lr, self.total_steps = float(max_lr), int(total_steps)
        self.pct_start, self.anneal_strategy = float(pct_start), anneal_strategy
        self.min_lr = self.learning_rate / final_div_factor
        self.three_phase = three_phase
        self.cycle_momentum = bool(cycle_momentum) and optimizer is not None
        self.base_momentum, self.max_momentum = float(base_momentum), float(max_momentum)
        if self.cycle_momentum:
            if not (hasattr(optimizer, "beta_1") or hasattr(optimizer, "momentum")):
                raise ValueError("optimizer must support momentum or beta1 with `cycle_momentum` option enabled")
            self._set_momentum()

    def _anneal(self, start, end, pct):
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (ops.cos(np.pi * pct) + 1.0)
        return (end - start) * pct + start

    def _cycle(self, epoch, start_value, peak, final):
        """The value at `epoch` going start_value -> peak -> final (three_phase:
        start_value -> peak -> start_value -> final), as PyTorch's phases."""
        up = float(self.pct_start * self.total_steps) - 1
        last = float(self.total_steps - 1)
        # (last step of the phase, value at its start, value at its end).
        if self.three_phase:
            down = float(2 * self.pct_start * self.total_steps) - 2
            phases = [(up, start_value, peak), (down, peak, start_value), (last, start_value, final)]
        else:
            phases = [(up, start_value, peak), (last, peak, final)]
        result, start = None, 0.0
        for end, first, value_at_end in phases:
            value = self._anneal(first, value_at_end, (epoch - start) / (end - start))
            result = value if result is None else ops.where(epoch > start, value, result)
            start = end
        return result

    def rate(self, epoch):
        return self._cycle(epoch, self.learning_rate, self.max_lr, self.min_lr)

    def step(self):
        super().step()
        if self.cycle_momentum:
            self._set_momentum()

    def _set_momentum(self):
        epoch = ops.cast(self.epoch, "float64")
        cycle = self._cycle(epoch, self.max_momentum, self.base_momentum, self.max_momentum)
        # A variable: a compiled train step (model.fit) reads its value at each step.
        name = "beta_1" if hasattr(self.optimizer, "beta_1") else "momentum"
        setting = getattr(self.optimizer, name)
        if isinstance(setting, keras.Variable):
            setting.assign(ops.cast(cycle, setting.dtype))
        else:
            setattr(self.optimizer, name, keras.Variable(ops.cast(cycle, "float32"), trainable=False, name=name))


class PyTorchReduceLROnPlateau:
    """ReduceLROnPlateau: scheduler.step(metric) after each evaluation; when the
    metric has not improved (mode "min": below best * (1 - threshold), "rel", or
    best - threshold, "abs"; "max" the other way) for more than `patience` steps,
    the rate becomes max(rate * factor, min_lr) (a change of at most eps is not
    made), then `cooldown` steps pass before counting again: PyTorch's rules. The
    optimizer's rate is this object's, a Keras schedule that returns it."""

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, min_lr=0.0, eps=1e-8):
        if factor >= 1.0:
            raise ValueError("Factor should be < 1.0.")
        if isinstance(min_lr, (list, tuple)):
            raise ValueError("PyTorchReduceLROnPlateau: a min_lr per parameter group is not supported")
        self.optimizer = optimizer
        self.mode, self.factor, self.patience = mode, float(factor), int(patience)
        self.threshold, self.threshold_mode = float(threshold), threshold_mode
        self.cooldown, self.min_lr, self.eps = int(cooldown), float(min_lr), float(eps)
        self.best = float("inf") if mode == "min" else float("-inf")
        self.num_bad_epochs, self.cooldown_counter = 0, 0
        self.rate = keras.Variable(_t2k_current_lr(optimizer), dtype="float32", trainable=False, name="plateau_lr")
        _t2k_install_schedule(optimizer, self._Schedule(self.rate), self)

    class _Schedule(keras.optimizers.schedules.LearningRateSchedule):
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, step):
            return ops.convert_to_tensor(self.rate)

    def _better(self, current):
        if self.mode == "min" and self.threshold_mode == "rel":
            return current < self.best * (1.0 - self.threshold)
        if self.mode == "min":
            return current < self.best - self.threshold
        if self.threshold_mode == "rel":
            return current > self.best * (self.threshold + 1.0)
        return current > self.best + self.threshold

    def step(self, metrics):
        """scheduler.step(val_loss)."""
        _t2k_check_scheduler(self.optimizer, self)
        current = float(ops.convert_to_numpy(metrics))
        if self._better(current):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            old = float(ops.convert_to_numpy(self.rate))
            new = max(old * self.factor, self.min_lr)
            if old - new > self.eps:
                self.rate.assign(new)
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0

    def get_last_lr(self):
        return [float(ops.convert_to_numpy(self.rate))]


class PyTorchTensorDataset:
    """torch.utils.data.TensorDataset: sample i is the tuple of every array's
    item i (arrays of one length along their first axis)."""

    def __init__(self, *tensors):
        self.tensors = [_t2k_array(t) for t in tensors]
        if any(len(t) != len(self.tensors[0]) for t in self.tensors):
            raise ValueError("PyTorchTensorDataset: the arrays differ in their first dimension")

    def __len__(self):
        return len(self.tensors[0])

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)


class PyTorchSubset:
    """torch.utils.data.Subset: the items of `dataset` at `indices`, in that order."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, list(indices)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[self.indices[index]]


def pytorch_random_split(dataset, lengths, seed=None):
    """torch.utils.data.random_split: Subsets of `lengths` (counts, or fractions
    summing to 1 whose floors get the rest one by one, as PyTorch gives it) of a
    random permutation. The permutation is numpy's (seeded by `seed`, else by
    keras.utils.set_random_seed's numpy seed), not torch's: the same sizes, not
    the same items as PyTorch's."""
    n = len(dataset)
    if all(isinstance(x, float) for x in lengths) and abs(sum(lengths) - 1.0) < 1e-9:
        counts = [int(np.floor(n * x)) for x in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ValueError("pytorch_random_split: the lengths do not add up to the dataset's length")
    order = np.random.default_rng(seed).permutation(n) if seed is not None else np.random.permutation(n)
    splits, start = [], 0
    for length in lengths:
        splits.append(PyTorchSubset(dataset, order[start:start + length].tolist()))
        start += length
    return splits


def _t2k_array(value):
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        return np.asarray(value.numpy())
    return np.asarray(value)


def pytorch_default_collate(samples):
    """torch.utils.data.default_collate: samples (arrays, numbers, tuples, lists,
    dicts of them) made one batch: arrays stacked on a new first axis, Python
    floats as float64 and ints as int64 arrays (PyTorch's tensor dtypes), tuples
    and dicts collated item by item, strings kept as a list."""
    first = samples[0]
    if isinstance(first, str) or first is None:
        return list(samples)
    if isinstance(first, dict):
        return {key: pytorch_default_collate([s[key] for s in samples]) for key in first}
    if isinstance(first, (tuple, list)):
        items = [pytorch_default_collate(list(group)) for group in zip(*samples)]
        return type(first)(*items) if hasattr(first, "_fields") else type(first)(items)
    if isinstance(first, bool):
        return np.asarray(samples, dtype=bool)
    if isinstance(first, int):
        return np.asarray(samples, dtype="int64")
    if isinstance(first, float):
        return np.asarray(samples, dtype="float64")
    return np.stack([_t2k_array(s) for s in samples])


class PyTorchDataLoader(keras.utils.PyDataset):
    """torch.utils.data.DataLoader over a map-style dataset (len() and [i] giving
    one sample), as a Keras PyDataset: item i is batch i (`batch_size` samples
    collated by `collate_fn`, PyTorch's default_collate unless given), len() the
    number of batches (the last one smaller unless drop_last). With shuffle, each
    epoch (each iteration, or each epoch of model.fit) takes a new permutation
    from numpy's generator (keras.utils.set_random_seed seeds it): PyTorch's
    batches hold the same samples in another order. num_workers > 0 loads
    batches in that many threads (Keras' workers)."""

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, collate_fn=None,
                 num_workers=0, **kwargs):
        super().__init__(workers=max(1, num_workers), use_multiprocessing=False, **kwargs)
        self.dataset, self.batch_size = dataset, batch_size
        self.shuffle, self.drop_last = shuffle, drop_last
        self.collate_fn = collate_fn if collate_fn is not None else pytorch_default_collate
        self._order = None
        import threading  # Keras' workers ask for batches from several threads

        self._order_lock = threading.Lock()

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _indices(self):
        with self._order_lock:  # one permutation an epoch, whichever worker asks first
            if self._order is None:
                n = len(self.dataset)
                self._order = np.random.permutation(n) if self.shuffle else np.arange(n)
            return self._order

    def __getitem__(self, index):
        if index >= len(self):
            raise IndexError(index)
        chosen = self._indices()[index * self.batch_size:(index + 1) * self.batch_size]
        return self.collate_fn([self.dataset[int(i)] for i in chosen])

    def on_epoch_end(self):
        with self._order_lock:
            self._order = None  # a new permutation for the next epoch

    def __iter__(self):
        for index in range(len(self)):
            yield self[index]
        self.on_epoch_end()


# torchvision.transforms for the data pipeline (numpy, and PIL images where the
# input is one). Images keep PyTorch's layout, (C, H, W) after ToTensor: the
# converted model takes PyTorch shapes (--io-layout torch) and moves to its own
# layout inside. Random transforms draw from numpy's generator
# (keras.utils.set_random_seed seeds it), not torch's.


def _t2k_is_pil(image):
    return hasattr(image, "getbands") and hasattr(image, "resize")


def _t2k_pair(size):
    if isinstance(size, (tuple, list)):
        return (int(size[0]), int(size[-1]))
    return (int(size), int(size))


def _t2k_image_size(image):
    """(height, width) of a PIL image or a (..., H, W) array."""
    if _t2k_is_pil(image):
        return image.size[1], image.size[0]
    return image.shape[-2], image.shape[-1]


def _t2k_apply_to_pixels(image, fn):
    """fn applied to the (..., H, W) array of `image` (a PIL image: its (C, H, W)
    array, given back as a PIL image of its mode)."""
    if not _t2k_is_pil(image):
        return fn(np.asarray(image))
    from PIL import Image  # the input is a PIL image: PIL is there

    array = np.asarray(image)
    hwc = array[:, :, None] if array.ndim == 2 else array
    out = np.ascontiguousarray(np.moveaxis(fn(np.moveaxis(hwc, -1, 0)), 0, -1))
    return Image.fromarray(out[:, :, 0] if array.ndim == 2 else out, mode=image.mode)


class PyTorchCompose:
    """transforms.Compose: each transform in turn."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, image):
        for transform in self.transforms:
            image = transform(image)
        return image


class PyTorchToTensor:
    """transforms.ToTensor: a PIL image or an (H, W[, C]) array as a (C, H, W)
    array; uint8 values become float32 / 255, others keep their values."""

    def __call__(self, picture):
        array = np.asarray(picture)
        if array.ndim == 2:
            array = array[:, :, None]
        chw = np.ascontiguousarray(array.transpose(2, 0, 1))
        if chw.dtype == np.uint8:
            return chw.astype("float32") / np.float32(255)
        return chw


class PyTorchNormalize:
    """transforms.Normalize: (x - mean) / std per channel of a (C, H, W) array."""

    def __init__(self, mean, std, inplace=False):
        self.mean, self.std = mean, std

    def __call__(self, array):
        array = np.asarray(array)
        mean = np.asarray(self.mean, dtype=array.dtype).reshape(-1, 1, 1)
        std = np.asarray(self.std, dtype=array.dtype).reshape(-1, 1, 1)
        return (array - mean) / std


def _t2k_pad_image(array, left, top, right, bottom, fill=0, padding_mode="constant"):
    widths = [(0, 0)] * (array.ndim - 2) + [(top, bottom), (left, right)]
    if padding_mode == "constant":
        return np.pad(array, widths, constant_values=fill)
    return np.pad(array, widths, mode={"edge": "edge", "reflect": "reflect", "symmetric": "symmetric"}[padding_mode])


class PyTorchCenterCrop:
    """transforms.CenterCrop: the (h, w) window at the centre (top and left
    rounded as torchvision rounds them), zero-padded first when larger."""

    def __init__(self, size):
        self.size = _t2k_pair(size)

    def __call__(self, image):
        crop_h, crop_w = self.size

        def crop(array):
            h, w = array.shape[-2:]
            if crop_w > w or crop_h > h:
                array = _t2k_pad_image(array, (crop_w - w) // 2 if crop_w > w else 0, (crop_h - h) // 2 if crop_h > h else 0,
                                       (crop_w - w + 1) // 2 if crop_w > w else 0, (crop_h - h + 1) // 2 if crop_h > h else 0)
                h, w = array.shape[-2:]
            top, left = int(round((h - crop_h) / 2.0)), int(round((w - crop_w) / 2.0))
            return array[..., top:top + crop_h, left:left + crop_w]

        return _t2k_apply_to_pixels(image, crop)


class PyTorchRandomHorizontalFlip:
    """transforms.RandomHorizontalFlip: mirrored left to right with probability p."""

    def __init__(self, p=0.5):
        self.p = p

    def __call__(self, image):
        if np.random.random() < self.p:
            return _t2k_apply_to_pixels(image, lambda array: array[..., ::-1].copy())
        return image


class PyTorchRandomCrop:
    """transforms.RandomCrop: `padding` added first (an int, (left/right,
    top/bottom) or (left, top, right, bottom); `pad_if_needed` pads a smaller
    image to the size), then a window at a uniformly drawn position."""

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        self.size, self.padding, self.pad_if_needed = _t2k_pair(size), padding, pad_if_needed
        self.fill, self.padding_mode = fill, padding_mode

    def __call__(self, image):
        crop_h, crop_w = self.size

        def crop(array):
            if self.padding is not None:
                p = self.padding
                p = (p, p, p, p) if isinstance(p, int) else (p[0], p[1], p[0], p[1]) if len(p) == 2 else tuple(p)
                array = _t2k_pad_image(array, *p, fill=self.fill, padding_mode=self.padding_mode)
            h, w = array.shape[-2:]
            if self.pad_if_needed and w < crop_w:
                array = _t2k_pad_image(array, crop_w - w, 0, crop_w - w, 0, self.fill, self.padding_mode)
            if self.pad_if_needed and h < crop_h:
                array = _t2k_pad_image(array, 0, crop_h - h, 0, crop_h - h, self.fill, self.padding_mode)
            h, w = array.shape[-2:]
            top = np.random.randint(0, h - crop_h + 1)
            left = np.random.randint(0, w - crop_w + 1)
            return array[..., top:top + crop_h, left:left + crop_w]

        return _t2k_apply_to_pixels(image, crop)


class PyTorchResize:
    """transforms.Resize: to (h, w), or with an int the shorter side to `size` and
    the longer one in proportion (truncated, capped by max_size), as torchvision
    computes it. A PIL image is resized by PIL with the same filter (bilinear by
    default), as torchvision does; an array by keras.ops.image.resize
    (antialiased when `antialias`), close to torchvision's but not bit-equal."""

    def __init__(self, size, interpolation="bilinear", max_size=None, antialias=True):
        self.size, self.interpolation, self.max_size, self.antialias = size, interpolation, max_size, antialias

    def _output_size(self, h, w):
        if isinstance(self.size, (tuple, list)) and len(self.size) == 2:
            return int(self.size[0]), int(self.size[1])
        size = int(self.size[0] if isinstance(self.size, (tuple, list)) else self.size)
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = size, int(size * long / short)
        if self.max_size is not None and new_long > self.max_size:
            new_short, new_long = int(self.max_size * new_short / new_long), self.max_size
        return (new_long, new_short) if w <= h else (new_short, new_long)

    def __call__(self, image):
        h, w = _t2k_image_size(image)
        out_h, out_w = self._output_size(h, w)
        if _t2k_is_pil(image):
            filters = {"nearest": 0, "bilinear": 2, "bicubic": 3, "lanczos": 1, "box": 4, "hamming": 5}
            return image.resize((out_w, out_h), filters[self.interpolation])
        array = np.asarray(image)
        resized = ops.image.resize(array, (out_h, out_w), interpolation=self.interpolation,
                                   antialias=self.antialias, data_format="channels_first")
        return ops.convert_to_numpy(resized).astype(array.dtype)


def pytorch_weights_file(path):
    """The Keras weights file for a PyTorch checkpoint path (torch.save's
    "net.pt" -> "net.weights.h5"; Keras' save_weights wants that suffix)."""
    import os

    root, _ = os.path.splitext(str(path))
    return root + ".weights.h5"


class PyTorchRandomResizedCrop:
    """transforms.RandomResizedCrop: a window of a random area (`scale` of the
    image's) and aspect ratio (`ratio`, drawn on a log scale), ten tries, else the
    centred window of the nearest allowed ratio (torchvision's get_params), resized
    to `size` as PyTorchResize resizes (a PIL image by PIL, as torchvision)."""

    def __init__(self, size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation="bilinear",
                 antialias=True):
        self.size, self.scale, self.ratio = _t2k_pair(size), scale, ratio
        self.resize = PyTorchResize(self.size, interpolation=interpolation, antialias=antialias)

    def get_params(self, height, width):
        """(top, left, h, w) of the window."""
        area = height * width
        log_ratio = np.log(self.ratio)
        for _ in range(10):
            target_area = area * np.random.uniform(self.scale[0], self.scale[1])
            aspect_ratio = float(np.exp(np.random.uniform(log_ratio[0], log_ratio[1])))
            w = int(round(np.sqrt(target_area * aspect_ratio)))
            h = int(round(np.sqrt(target_area / aspect_ratio)))
            if 0 < w <= width and 0 < h <= height:
                return np.random.randint(0, height - h + 1), np.random.randint(0, width - w + 1), h, w
        in_ratio = float(width) / float(height)
        if in_ratio < min(self.ratio):
            w, h = width, int(round(width / min(self.ratio)))
        elif in_ratio > max(self.ratio):
            h, w = height, int(round(height * max(self.ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def resized_crop(self, image, top, left, h, w):
        """The (top, left, h, w) window of `image`, resized to `size`."""
        if _t2k_is_pil(image):
            return self.resize(image.crop((left, top, left + w, top + h)))
        return self.resize(np.asarray(image)[..., top:top + h, left:left + w])

    def __call__(self, image):
        return self.resized_crop(image, *self.get_params(*_t2k_image_size(image)))


def _t2k_blend(image, other, factor):
    """factor * image + (1 - factor) * other, clipped to the dtype's range
    (torchvision's _blend of tensors: [0, 1] floats, [0, 255] uint8)."""
    bound = 255.0 if image.dtype == np.uint8 else 1.0
    out = np.clip(factor * image.astype("float32") + (1.0 - factor) * other, 0.0, bound)
    return out.astype(image.dtype)


def _t2k_grayscale(chw):
    """torchvision's rgb_to_grayscale of a (3, H, W) array: 0.2989 R + 0.587 G + 0.114 B."""
    r, g, b = chw.astype("float32")[-3], chw.astype("float32")[-2], chw.astype("float32")[-1]
    gray = 0.2989 * r + 0.587 * g + 0.114 * b
    return np.floor(gray) if chw.dtype == np.uint8 else gray


def _t2k_adjust_hue(chw, hue_factor):
    """torchvision's adjust_hue of a (3, H, W) array: the hue of HSV turned by
    hue_factor of a full turn."""
    image = chw.astype("float32") / 255.0 if chw.dtype == np.uint8 else chw.astype("float32")
    r, g, b = image
    maxc, minc = image.max(axis=0), image.min(axis=0)
    eqc = maxc == minc
    cr = maxc - minc
    ones = np.ones_like(maxc)
    s = cr / np.where(eqc, ones, maxc)
    cr_divisor = np.where(eqc, ones, cr)
    rc, gc, bc = (maxc - r) / cr_divisor, (maxc - g) / cr_divisor, (maxc - b) / cr_divisor
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = np.fmod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    h = np.fmod(h + hue_factor, 1.0)
    h = np.where(h < 0, h + 1.0, h)  # torch's fmod keeps the sign; the result is in [0, 1)
    i = np.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.astype("int32") % 6
    v = maxc
    p = np.clip(v * (1.0 - s), 0.0, 1.0)
    q = np.clip(v * (1.0 - s * f), 0.0, 1.0)
    t = np.clip(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    table = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    out = np.stack([np.choose(i, [row[c] for row in table]) for c in range(3)]).astype("float32")
    return (out * 255.0).round().astype(np.uint8) if chw.dtype == np.uint8 else out


class PyTorchColorJitter:
    """transforms.ColorJitter: brightness, contrast, saturation (factors drawn from
    [max(0, 1 - x), 1 + x], or the given (min, max)) and hue (from [-x, x]),
    applied in a random order, as torchvision: a PIL image by PIL's ImageEnhance
    and HSV conversion (torchvision's functional_pil), a (C, H, W) array by
    torchvision's tensor formulas."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        self.brightness = self._range(brightness, 1.0, (0, float("inf")))
        self.contrast = self._range(contrast, 1.0, (0, float("inf")))
        self.saturation = self._range(saturation, 1.0, (0, float("inf")))
        self.hue = self._range(hue, 0.0, (-0.5, 0.5))

    @staticmethod
    def _range(value, center, bound):
        if isinstance(value, (int, float)):
            if value == 0:
                return None
            value = (center - value, center + value) if center else (-value, value)
            value = (max(value[0], bound[0]) if center else value[0], value[1])
        value = (float(value[0]), float(value[1]))
        return None if value[0] == value[1] == center else value

    def __call__(self, image):
        order = np.random.permutation(4)
        factors = [None if r is None else float(np.random.uniform(r[0], r[1]))
                   for r in (self.brightness, self.contrast, self.saturation, self.hue)]
        for index in order:
            if factors[index] is not None:
                image = self.adjust(image, int(index), factors[index])
        return image

    @staticmethod
    def adjust(image, which, factor):
        """One adjustment: 0 brightness, 1 contrast, 2 saturation, 3 hue."""
        if _t2k_is_pil(image):
            from PIL import Image, ImageEnhance  # the input is a PIL image: PIL is there

            if which < 3:
                enhancer = (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color)[which]
                return enhancer(image).enhance(factor)
            if image.mode in ("L", "1", "I", "F"):
                return image
            h, s, v = image.convert("HSV").split()
            hue = np.array(h, dtype=np.uint8)
            hue += np.int32(factor * 255).astype(np.uint8)  # wraps around, as torchvision's
            return Image.merge("HSV", (Image.fromarray(hue, "L"), s, v)).convert(image.mode)
        chw = np.asarray(image)
        if which == 0:
            return _t2k_blend(chw, np.zeros_like(chw, dtype="float32"), factor)
        gray = _t2k_grayscale(chw) if chw.shape[-3] == 3 else chw.astype("float32")[-1]
        if which == 1:
            mean = np.mean(gray, axis=(-2, -1), keepdims=True)
            return _t2k_blend(chw, mean, factor)
        if which == 2:
            return _t2k_blend(chw, gray[None], factor) if chw.shape[-3] == 3 else chw
        return _t2k_adjust_hue(chw, factor) if chw.shape[-3] == 3 else chw


class PyTorchGradScaler:
    """torch.amp.GradScaler in float32 training: the scale it multiplies the loss
    by and divides the gradients by again is a power of two, so the step is the
    unscaled one (what this class does); as PyTorch's, a step whose gradients are
    not all finite is skipped."""

    def __init__(self, device="cuda", init_scale=65536.0, growth_factor=2.0, backoff_factor=0.5,
                 growth_interval=2000, enabled=True):
        self.enabled = enabled

    def scale(self, outputs):
        return outputs

    def unscale_(self, optimizer):
        pass

    def step(self, optimizer, *args, **kwargs):
        gradients = [g for v in optimizer._gradient_holders() for g in [_t2k_stored_gradient(v)] if g is not None]
        if all(bool(ops.all(ops.isfinite(g))) for g in gradients):
            return optimizer.step(*args, **kwargs)
        return None

    def update(self, new_scale=None):
        pass

    def get_scale(self):
        return 1.0

    def is_enabled(self):
        return self.enabled
