"""Test images common to the tests of the command (test/test_cli_*.py) and
of the Python binding (wrapping/python/tests, which find this folder on
PYTHONPATH)."""
import numpy as np


def pair(shape, dtype, seed=0, noise=0.4):
    """A textured pair of images of `dtype`, correlated block by block with
    varying strength and sign."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=shape)
    a = base + noise * rng.normal(size=shape)
    b = base * rng.uniform(-1, 1, size=shape[:-1] + (1,)) + noise * rng.normal(size=shape)
    if np.issubdtype(np.dtype(dtype), np.integer):
        info = np.iinfo(dtype)
        scale = (float(info.max) - float(info.min)) / 14
        mid = (float(info.max) + float(info.min)) / 2
        a = np.clip(np.round(a * scale + mid), info.min, info.max)
        b = np.clip(np.round(b * scale + mid), info.min, info.max)
    return a.astype(dtype), b.astype(dtype)
