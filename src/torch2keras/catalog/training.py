"""Training code: torch.optim optimizers and learning-rate schedulers, gradient
clipping, seeding and devices.

Facts (../../../../shared/reference/pitfalls.md):
* P53, P54: Keras' own optimizers differ from torch.optim (SGD keeps the learning
  rate inside its momentum, Adam adds epsilon before the bias correction, RMSprop
  inside the square root, weight_decay is always decoupled); the runtime's
  PyTorchSGD / PyTorchAdam / ... update as torch.optim does.
* P57: a PyTorch scheduler changes the rate when the loop calls scheduler.step();
  the runtime's schedules, made from the optimizer, become its rate and advance at
  the same calls.
An optimizer takes PyTorch's `params`: the converted training code writes
`model.parameters()` as the model itself (a Keras layer makes its weights at its
first call, so the optimizer reads them when it steps), and a list of parameter
groups (dicts with their own "lr" / "weight_decay") as it is. Each form keeps
PyTorch's defaults where Keras' differ (Adam's epsilon 1e-8, Adagrad's 1e-10).
"""


@function("torch.optim.SGD", layout="value")
def SGD(params, lr=0.001, momentum=0, dampening=0, weight_decay=0, nesterov=False, *, maximize=False,
        foreach=None, differentiable=False, fused=None):
    require(not maximize, "`maximize=True` is not supported")
    ignore(foreach, differentiable, fused)
    return PyTorchSGD(params, learning_rate=lr, momentum=momentum, dampening=dampening,
                      weight_decay=weight_decay, nesterov=nesterov)


@function("torch.optim.Adam", layout="value")
def Adam(params, lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0, amsgrad=False, *, foreach=None,
         maximize=False, capturable=False, differentiable=False, fused=None, decoupled_weight_decay=False):
    require(not maximize, "`maximize=True` is not supported")
    ignore(foreach, capturable, differentiable, fused)
    if decoupled_weight_decay:
        return PyTorchAdamW(params, learning_rate=lr, beta_1=betas[0], beta_2=betas[1], epsilon=eps,
                            weight_decay=weight_decay, amsgrad=amsgrad)
    return PyTorchAdam(params, learning_rate=lr, beta_1=betas[0], beta_2=betas[1], epsilon=eps,
                       weight_decay=weight_decay, amsgrad=amsgrad)


@function("torch.optim.AdamW", layout="value")
def AdamW(params, lr=0.001, betas=(0.9, 0.999), eps=1e-08, weight_decay=0.01, amsgrad=False, *, maximize=False,
          foreach=None, capturable=False, differentiable=False, fused=None):
    require(not maximize, "`maximize=True` is not supported")
    ignore(foreach, capturable, differentiable, fused)
    return PyTorchAdamW(params, learning_rate=lr, beta_1=betas[0], beta_2=betas[1], epsilon=eps,
                        weight_decay=weight_decay, amsgrad=amsgrad)


@function("torch.optim.RMSprop", layout="value")
def RMSprop(params, lr=0.01, alpha=0.99, eps=1e-08, weight_decay=0, momentum=0, centered=False,
            capturable=False, foreach=None, maximize=False, differentiable=False):
    require(not maximize, "`maximize=True` is not supported")
    ignore(capturable, foreach, differentiable)
    return PyTorchRMSprop(params, learning_rate=lr, alpha=alpha, epsilon=eps, weight_decay=weight_decay,
                          momentum=momentum, centered=centered)


@function("torch.optim.Adagrad", layout="value")
def Adagrad(params, lr=0.01, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10, foreach=None,
            *, maximize=False, differentiable=False, fused=None):
    require(not maximize, "`maximize=True` is not supported")
    ignore(foreach, differentiable, fused)
    return PyTorchAdagrad(params, learning_rate=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                          initial_accumulator_value=initial_accumulator_value, epsilon=eps)


# Schedulers: made from the optimizer as in PyTorch; resuming (last_epoch) is not
# converted.


@function("torch.optim.lr_scheduler.StepLR", layout="value")
def StepLR(optimizer, step_size, gamma=0.1, last_epoch=-1, verbose="deprecated"):
    require(last_epoch == -1, "`last_epoch=` (resuming a schedule) is not supported")
    ignore(verbose)
    return PyTorchStepLR(optimizer, step_size, gamma=gamma)


@function("torch.optim.lr_scheduler.MultiStepLR", layout="value")
def MultiStepLR(optimizer, milestones, gamma=0.1, last_epoch=-1, verbose="deprecated"):
    require(last_epoch == -1, "`last_epoch=` (resuming a schedule) is not supported")
    ignore(verbose)
    return PyTorchMultiStepLR(optimizer, milestones, gamma=gamma)


@function("torch.optim.lr_scheduler.ExponentialLR", layout="value")
def ExponentialLR(optimizer, gamma, last_epoch=-1, verbose="deprecated"):
    require(last_epoch == -1, "`last_epoch=` (resuming a schedule) is not supported")
    ignore(verbose)
    return PyTorchExponentialLR(optimizer, gamma)


@function("torch.optim.lr_scheduler.CosineAnnealingLR", layout="value")
def CosineAnnealingLR(optimizer, T_max, eta_min=0.0, last_epoch=-1, verbose="deprecated"):
    require(last_epoch == -1, "`last_epoch=` (resuming a schedule) is not supported")
    ignore(verbose)
    return PyTorchCosineAnnealingLR(optimizer, T_max, eta_min=eta_min)


@function("torch.optim.lr_scheduler.CosineAnnealingWarmRestarts", layout="value")
def CosineAnnealingWarmRestarts(optimizer, T_0, T_mult=1, eta_min=0.0, last_epoch=-1, verbose="deprecated"):
    require(last_epoch == -1, "`last_epoch=` (resuming a schedule) is not supported")
    ignore(verbose)
    return PyTorchCosineAnnealingWarmRestarts(optimizer, T_0, T_mult=T_mult, eta_min=eta_min)


@function("torch.optim.lr_scheduler.LinearLR", layout="value")
def LinearLR(optimizer, start_factor=1.0 / 3, end_factor=1.0, total_iters=5, last_epoch=-1, verbose="deprecated"):
    require(last_epoch == -1, "`last_epoch=` (resuming a schedule) is not supported")
    ignore(verbose)
    return PyTorchLinearLR(optimizer, start_factor=start_factor, end_factor=end_factor, total_iters=total_iters)


@function("torch.optim.lr_scheduler.LambdaLR", layout="value")
def LambdaLR(optimizer, lr_lambda, last_epoch=-1, verbose="deprecated"):
    require(last_epoch == -1, "`last_epoch=` (resuming a schedule) is not supported")
    ignore(verbose)
    return PyTorchLambdaLR(optimizer, lr_lambda)


@function("torch.optim.lr_scheduler.SequentialLR", layout="value")
def SequentialLR(optimizer, schedulers, milestones, last_epoch=-1, verbose="deprecated"):
    require(last_epoch == -1, "`last_epoch=` (resuming a schedule) is not supported")
    ignore(verbose)
    return PyTorchSequentialLR(optimizer, schedulers, milestones)


@function("torch.optim.lr_scheduler.OneCycleLR", layout="value")
def OneCycleLR(optimizer, max_lr, total_steps=None, epochs=None, steps_per_epoch=None, pct_start=0.3,
               anneal_strategy="cos", cycle_momentum=True, base_momentum=0.85, max_momentum=0.95, div_factor=25.0,
               final_div_factor=10000.0, three_phase=False, last_epoch=-1, verbose="deprecated"):
    require(last_epoch == -1, "`last_epoch=` (resuming a schedule) is not supported")
    ignore(verbose)
    if given(total_steps):
        return PyTorchOneCycleLR(optimizer, max_lr, total_steps, pct_start=pct_start,
                                 anneal_strategy=anneal_strategy, div_factor=div_factor,
                                 final_div_factor=final_div_factor, three_phase=three_phase,
                                 cycle_momentum=cycle_momentum, base_momentum=base_momentum,
                                 max_momentum=max_momentum)
    return PyTorchOneCycleLR(optimizer, max_lr, epochs * steps_per_epoch, pct_start=pct_start,
                             anneal_strategy=anneal_strategy, div_factor=div_factor,
                             final_div_factor=final_div_factor, three_phase=three_phase,
                             cycle_momentum=cycle_momentum, base_momentum=base_momentum,
                             max_momentum=max_momentum)


@function("torch.optim.lr_scheduler.ReduceLROnPlateau", layout="value")
def ReduceLROnPlateau(optimizer, mode="min", factor=0.1, patience=10, threshold=0.0001, threshold_mode="rel",
                      cooldown=0, min_lr=0, eps=1e-08, verbose="deprecated"):
    require(mode == "min" or mode == "max", "`mode={mode}` is not one of PyTorch's (min, max)")
    require(threshold_mode == "rel" or threshold_mode == "abs",
            "`threshold_mode={threshold_mode}` is not one of PyTorch's (rel, abs)")
    ignore(verbose)
    return PyTorchReduceLROnPlateau(optimizer, mode=mode, factor=factor, patience=patience, threshold=threshold,
                                    threshold_mode=threshold_mode, cooldown=cooldown, min_lr=min_lr, eps=eps)


@function("torch.nn.utils.clip_grad_norm_", "torch.nn.utils.clip_grad.clip_grad_norm_", layout="value",
          returns="float")
def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    ignore(foreach)
    return pytorch_clip_grad_norm_(parameters, max_norm, norm_type=norm_type,
                                   error_if_nonfinite=error_if_nonfinite)


@function("torch.nn.utils.clip_grad_value_", "torch.nn.utils.clip_grad.clip_grad_value_", layout="value")
def clip_grad_value_(parameters, clip_value, foreach=None):
    ignore(foreach)
    return pytorch_clip_grad_value_(parameters, clip_value)


@function("torch.amp.GradScaler", "torch.cuda.amp.GradScaler", "torch.cpu.amp.GradScaler", layout="value")
def GradScaler(device="cuda", init_scale=65536.0, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
               enabled=True):
    # Loss scaling for float16 gradients: in float32 training the scaled step is the
    # unscaled one (powers of two), which the runtime's scaler takes.
    ignore(device, init_scale, growth_factor, backoff_factor, growth_interval)
    return PyTorchGradScaler(enabled=enabled)


@function("torch.manual_seed", "torch.random.manual_seed", "torch.cuda.manual_seed", "torch.cuda.manual_seed_all",
          layout="value")
def manual_seed(seed):
    # Seeds Keras' generators (and Python's and numpy's): the same program gives the
    # same numbers from run to run, not PyTorch's numbers.
    return keras.utils.set_random_seed(seed)


@function("torch.cuda.is_available", "torch.backends.mps.is_available", layout="value")
def is_available():
    # Keras places tensors itself; the converted code asks for no device.
    return False


# The runtime's defaults are PyTorch's: a keyword left at it is left out.
KERAS_DEFAULTS = {
    "PyTorchSGD": dict(learning_rate=0.001, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False),
    "PyTorchAdam": dict(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.0,
                        amsgrad=False),
    "PyTorchAdamW": dict(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-8, weight_decay=0.01,
                         amsgrad=False),
    "PyTorchRMSprop": dict(learning_rate=0.01, alpha=0.99, epsilon=1e-8, weight_decay=0.0, momentum=0.0,
                           centered=False),
    "PyTorchAdagrad": dict(learning_rate=0.01, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                           epsilon=1e-10),
    "PyTorchStepLR": dict(gamma=0.1),
    "PyTorchMultiStepLR": dict(gamma=0.1),
    "PyTorchCosineAnnealingLR": dict(eta_min=0.0),
    "PyTorchCosineAnnealingWarmRestarts": dict(T_mult=1, eta_min=0.0),
    "PyTorchLinearLR": dict(start_factor=1.0 / 3, end_factor=1.0, total_iters=5),
    "PyTorchOneCycleLR": dict(pct_start=0.3, anneal_strategy="cos", div_factor=25.0, final_div_factor=1e4,
                              three_phase=False, cycle_momentum=True, base_momentum=0.85, max_momentum=0.95),
    "PyTorchReduceLROnPlateau": dict(mode="min", factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                                     cooldown=0, min_lr=0.0, eps=1e-8),
    "pytorch_clip_grad_norm_": dict(norm_type=2.0, error_if_nonfinite=False),
    "PyTorchGradScaler": dict(enabled=True),
}
