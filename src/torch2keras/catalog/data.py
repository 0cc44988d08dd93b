"""Data: torch.utils.data datasets and loaders, torchvision transforms, tensors
from numpy.

The runtime's classes keep PyTorch's layout and numbers (images (C, H, W) after
ToTensor, batches stacked on a new first axis): the converted models take PyTorch's
shapes (--io-layout torch). A DataLoader is a keras.utils.PyDataset (len() batches,
item i batch i), so model.fit takes it too. Random choices (shuffling, random
crops and flips, random_split) draw from numpy's generator, which
keras.utils.set_random_seed (torch.manual_seed's conversion) seeds: the same
kinds of batches as PyTorch's, not the same draws.
"""


@function("torch.utils.data.DataLoader", "torch.utils.data.dataloader.DataLoader", layout="value")
def DataLoader(dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
               collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
               multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
               pin_memory_device="", in_order=True):
    require(not given(sampler) and not given(batch_sampler), "`sampler=`/`batch_sampler=` are not supported yet")
    require(not given(worker_init_fn), "`worker_init_fn=` is not supported")
    # The order of a shuffle is numpy's whatever the generator (see above).
    ignore(pin_memory, timeout, multiprocessing_context, generator, prefetch_factor, persistent_workers,
           pin_memory_device, in_order)
    if given(shuffle):
        return PyTorchDataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                                 collate_fn=collate_fn, num_workers=num_workers)
    return PyTorchDataLoader(dataset, batch_size=batch_size, drop_last=drop_last, collate_fn=collate_fn,
                             num_workers=num_workers)


@function("torch.utils.data.TensorDataset", "torch.utils.data.dataset.TensorDataset", layout="value", vararg="items")
def TensorDataset(*tensors):
    return PyTorchTensorDataset(*tensors)


@function("torch.utils.data.Subset", "torch.utils.data.dataset.Subset", layout="value")
def Subset(dataset, indices):
    return PyTorchSubset(dataset, indices)


@function("torch.utils.data.random_split", "torch.utils.data.dataset.random_split", layout="value")
def random_split(dataset, lengths, generator=None):
    ignore(generator)  # numpy's permutation (see above)
    return pytorch_random_split(dataset, lengths)


@function("torch.from_numpy", "torch.as_tensor", layout="torch")
def from_numpy(ndarray, dtype=None, device=None):
    ignore(device)
    return ops.convert_to_tensor(ndarray, dtype=dtype)


@function("torchvision.transforms.Compose", "torchvision.transforms.transforms.Compose", layout="value")
def Compose(transforms):
    return PyTorchCompose(transforms)


@function("torchvision.transforms.ToTensor", "torchvision.transforms.transforms.ToTensor", layout="value")
def ToTensor():
    return PyTorchToTensor()


@function("torchvision.transforms.Normalize", "torchvision.transforms.transforms.Normalize", layout="value")
def Normalize(mean, std, inplace=False):
    ignore(inplace)
    return PyTorchNormalize(mean, std)


@function("torchvision.transforms.CenterCrop", "torchvision.transforms.transforms.CenterCrop", layout="value")
def CenterCrop(size):
    return PyTorchCenterCrop(size)


@function("torchvision.transforms.Resize", "torchvision.transforms.transforms.Resize", layout="value")
def Resize(size, interpolation="bilinear", max_size=None, antialias=True):
    require(is_known(interpolation) and interpolation == "bilinear",
            "`interpolation=` other than the default (bilinear) is not supported yet")
    return PyTorchResize(size, max_size=max_size, antialias=antialias)


@function("torchvision.transforms.RandomHorizontalFlip", "torchvision.transforms.transforms.RandomHorizontalFlip",
          layout="value")
def RandomHorizontalFlip(p=0.5):
    return PyTorchRandomHorizontalFlip(p=p)


@function("torchvision.transforms.RandomCrop", "torchvision.transforms.transforms.RandomCrop", layout="value")
def RandomCrop(size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
    return PyTorchRandomCrop(size, padding=padding, pad_if_needed=pad_if_needed, fill=fill,
                             padding_mode=padding_mode)


@function("torchvision.transforms.RandomResizedCrop", "torchvision.transforms.transforms.RandomResizedCrop",
          layout="value")
def RandomResizedCrop(size, scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), interpolation="bilinear",
                      antialias=True):
    require(is_known(interpolation) and interpolation == "bilinear",
            "`interpolation=` other than the default (bilinear) is not supported yet")
    return PyTorchRandomResizedCrop(size, scale=scale, ratio=ratio, antialias=antialias)


@function("torchvision.transforms.ColorJitter", "torchvision.transforms.transforms.ColorJitter", layout="value")
def ColorJitter(brightness=0, contrast=0, saturation=0, hue=0):
    return PyTorchColorJitter(brightness=brightness, contrast=contrast, saturation=saturation, hue=hue)


KERAS_DEFAULTS = {
    "PyTorchDataLoader": dict(batch_size=1, shuffle=False, drop_last=False, collate_fn=None, num_workers=0),
    "PyTorchResize": dict(max_size=None, antialias=True),
    "PyTorchRandomHorizontalFlip": dict(p=0.5),
    "PyTorchRandomCrop": dict(padding=None, pad_if_needed=False, fill=0, padding_mode="constant"),
    "PyTorchRandomResizedCrop": dict(scale=(0.08, 1.0), ratio=(3.0 / 4.0, 4.0 / 3.0), antialias=True),
    "PyTorchColorJitter": dict(brightness=0, contrast=0, saturation=0, hue=0),
}
