"""Losses: torch.nn.*Loss modules and their torch.nn.functional forms.

Facts (../../../../shared/reference/pitfalls.md):
* P51: CrossEntropyLoss takes logits and class indices (or probabilities) on axis 1;
  a weighted "mean" divides by the summed weights of the targets, `ignore_index`
  entries add nothing and are not counted. Keras' crossentropies differ (from_logits,
  class axis -1, weighted mean over the batch size), so the runtime computes PyTorch's.
* P52: BCELoss clamps its logs at -100 (Keras clips probabilities to [1e-7, 1 - 1e-7]);
  BCEWithLogitsLoss has `pos_weight`; KLDivLoss takes log-probabilities first and
  "mean" averages every element ("batchmean" is the true KL); SmoothL1Loss(beta) is
  Huber(delta=beta) / beta; MSE and L1 average every element.
Every loss runs in PyTorch's axis order (layout "torch"): classes stay on axis 1.
The modules keep `weight` and `pos_weight` as PyTorch buffers (the state_dict
holds them, the loader fills them). The deprecated `size_average` / `reduce`
arguments are refused: `reduction=` says the same.
"""


@function("torch.nn.functional.cross_entropy", input="float", layout="torch", returns="float")
def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    require(not given(size_average) and not given(reduce),
            "`size_average=`/`reduce=` (deprecated) are not supported; use `reduction=`")
    require(reduction == "mean" or reduction == "sum" or reduction == "none",
            "`reduction={reduction}` is not one of PyTorch's (mean, sum, none)")
    return pytorch_cross_entropy(input, target, weight=weight, ignore_index=ignore_index,
                                 reduction=reduction, label_smoothing=label_smoothing)


@module("torch.nn.CrossEntropyLoss", layout="torch", returns="float")
def CrossEntropyLoss(weight=None, size_average=None, ignore_index=-100, reduce=None,
                     reduction="mean", label_smoothing=0.0):
    require(not given(size_average) and not given(reduce),
            "`size_average=`/`reduce=` (deprecated) are not supported; use `reduction=`")
    require(reduction == "mean" or reduction == "sum" or reduction == "none",
            "`reduction={reduction}` is not one of PyTorch's (mean, sum, none)")
    return PyTorchLoss(pytorch_cross_entropy, weight=weight, ignore_index=ignore_index,
                       reduction=reduction, label_smoothing=label_smoothing)


@function("torch.nn.functional.nll_loss", input="float", layout="torch", returns="float")
def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
             reduction="mean"):
    require(not given(size_average) and not given(reduce),
            "`size_average=`/`reduce=` (deprecated) are not supported; use `reduction=`")
    return pytorch_nll_loss(input, target, weight=weight, ignore_index=ignore_index, reduction=reduction)


@module("torch.nn.NLLLoss", layout="torch", returns="float")
def NLLLoss(weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    require(not given(size_average) and not given(reduce),
            "`size_average=`/`reduce=` (deprecated) are not supported; use `reduction=`")
    return PyTorchLoss(pytorch_nll_loss, weight=weight, ignore_index=ignore_index, reduction=reduction)


@function("torch.nn.functional.binary_cross_entropy", input="float", layout="torch", returns="float")
def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    require(not given(size_average) and not given(reduce),
            "`size_average=`/`reduce=` (deprecated) are not supported; use `reduction=`")
    return pytorch_binary_cross_entropy(input, target, weight=weight, reduction=reduction)


@module("torch.nn.BCELoss", layout="torch", returns="float")
def BCELoss(weight=None, size_average=None, reduce=None, reduction="mean"):
    require(not given(size_average) and not given(reduce),
            "`size_average=`/`reduce=` (deprecated) are not supported; use `reduction=`")
    return PyTorchLoss(pytorch_binary_cross_entropy, weight=weight, reduction=reduction)


@function("torch.nn.functional.binary_cross_entropy_with_logits", input="float", layout="torch",
          returns="float")
def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None,
                                     reduction="mean", pos_weight=None):
    require(not given(size_average) and not given(reduce),
            "`size_average=`/`reduce=` (deprecated) are not supported; use `reduction=`")
    return pytorch_binary_cross_entropy_with_logits(input, target, weight=weight, reduction=reduction,
                                                    pos_weight=pos_weight)


@module("torch.nn.BCEWithLogitsLoss", layout="torch", returns="float")
def BCEWithLogitsLoss(weight=None, size_average=None, reduce=None, reduction="mean", pos_weight=None):
    require(not given(size_average) and not given(reduce),
            "`size_average=`/`reduce=` (deprecated) are not supported; use `reduction=`")
    return PyTorchLoss(pytorch_binary_cross_entropy_with_logits, weight=weight, pos_weight=pos_weight,
                       reduction=reduction)


@function("torch.nn.functional.mse_loss", input="float", layout="any", returns="float")
def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    require(not given(size_average) and not given(reduce),
            "`size_average=`/`reduce=` (deprecated) are not supported; use `reduction=`")
    require(not given(weight), "`weight=` is not supported yet")
    return pytorch_mse_loss(input, target, reduction=reduction)


@module("torch.nn.MSELoss", layout="any", returns="float")
def MSELoss(size_average=None, reduce=None, reduction="mean"):
    require(not given(size_average) and not given(reduce),
            "`size_average=`/`reduce=` (deprecated) are not supported; use `reduction=`")
    return PyTorchLoss(pytorch_mse_loss, reduction=reduction)


@function("torch.nn.functional.l1_loss", input="float", layout="any", returns="float")
def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    require(not given(size_average) and not given(reduce),
            "`size_average=`/`reduce=` (deprecated) are not supported; use `reduction=`")
    require(not given(weight), "`weight=` is not supported yet")
    return pytorch_l1_loss(input, target, reduction=reduction)


@module("torch.nn.L1Loss", layout="any", returns="float")
def L1Loss(size_average=None, reduce=None, reduction="mean"):
    require(not given(size_average) and not given(reduce),
            "`size_average=`/`reduce=` (deprecated) are not supported; use `reduction=`")
    return PyTorchLoss(pytorch_l1_loss, reduction=reduction)


@function("torch.nn.functional.smooth_l1_loss", input="float", layout="any", returns="float")
def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    require(not given(size_average) and not given(reduce),
            "`size_average=`/`reduce=` (deprecated) are not supported; use `reduction=`")
    return pytorch_smooth_l1_loss(input, target, reduction=reduction, beta=beta)


@module("torch.nn.SmoothL1Loss", layout="any", returns="float")
def SmoothL1Loss(size_average=None, reduce=None, reduction="mean", beta=1.0):
    require(not given(size_average) and not given(reduce),
            "`size_average=`/`reduce=` (deprecated) are not supported; use `reduction=`")
    return PyTorchLoss(pytorch_smooth_l1_loss, reduction=reduction, beta=beta)


@function("torch.nn.functional.huber_loss", input="float", layout="any", returns="float")
def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    require(not given(weight), "`weight=` is not supported yet")
    return pytorch_huber_loss(input, target, reduction=reduction, delta=delta)


@module("torch.nn.HuberLoss", layout="any", returns="float")
def HuberLoss(reduction="mean", delta=1.0):
    return PyTorchLoss(pytorch_huber_loss, reduction=reduction, delta=delta)


@function("torch.nn.functional.kl_div", input="float", layout="any", returns="float")
def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    require(not given(size_average) and not given(reduce),
            "`size_average=`/`reduce=` (deprecated) are not supported; use `reduction=`")
    return pytorch_kl_div(input, target, reduction=reduction, log_target=log_target)


@module("torch.nn.KLDivLoss", layout="any", returns="float")
def KLDivLoss(size_average=None, reduce=None, reduction="mean", log_target=False):
    require(not given(size_average) and not given(reduce),
            "`size_average=`/`reduce=` (deprecated) are not supported; use `reduction=`")
    return PyTorchLoss(pytorch_kl_div, reduction=reduction, log_target=log_target)


@function("torch.nn.functional.cosine_embedding_loss", input="float", layout="torch", returns="float")
def cosine_embedding_loss(input1, input2, target, margin=0.0, size_average=None, reduce=None,
                          reduction="mean"):
    require(not given(size_average) and not given(reduce),
            "`size_average=`/`reduce=` (deprecated) are not supported; use `reduction=`")
    return pytorch_cosine_embedding_loss(input1, input2, target, margin=margin, reduction=reduction)


@module("torch.nn.CosineEmbeddingLoss", layout="torch", returns="float")
def CosineEmbeddingLoss(margin=0.0, size_average=None, reduce=None, reduction="mean"):
    require(not given(size_average) and not given(reduce),
            "`size_average=`/`reduce=` (deprecated) are not supported; use `reduction=`")
    return PyTorchLoss(pytorch_cosine_embedding_loss, margin=margin, reduction=reduction)
