"""Blockwise: statistics and Pearson correlation of the non-overlapping
blocks of large 2-D and 3-D images, and their non-local means denoising,
on numpy and dask arrays.

    >>> import numpy as np, blockwise
    >>> a = np.arange(40 * 60, dtype=np.uint16).reshape(40, 60)
    >>> blockwise.block_stats(a, (10, 10), "mean").shape
    (4, 6)

The work is done by the Blockwise C core (libblockwise), called through
ctypes with the GIL released, on views of the caller's memory.  Arrays with
more axes than the block (time, channel, ...) are handled in one call: a
(T, C, Z, Y, X) array with a 3-D block gives (T, C, z, y, x) results.
dask arrays give lazy dask results (blockwise.dask).

Functions: block_stats, block_corr, block_output_shape, block_input_region,
nlm_denoise, nlm_input_region.
"""
from . import _core
from ._nlm import nlm_denoise, nlm_input_region
from ._numpy import block_corr, block_input_region, block_output_shape, block_stats

__version__ = _core.version
#: Path of the loaded C core library.
library_path = _core.library_path
#: Names of the statistics, in the core's order.
STATS = _core.STATS

__all__ = ["block_stats", "block_corr", "block_output_shape", "block_input_region",
           "nlm_denoise", "nlm_input_region", "STATS", "library_path", "__version__"]
