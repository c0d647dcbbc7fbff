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

Modules, each using only those before it: _core (the library and its ctypes
declarations), _args (arguments, checked by Python and the core), _split
(views, leading axes, thread shares), _numpy and _nlm (the operations on
numpy arrays), dask (on dask arrays).  This module dispatches dask inputs.
"""
import functools
import inspect
import sys

from . import _core, _nlm, _numpy
from ._nlm import nlm_input_region
from ._numpy import block_input_region, block_output_shape

__version__ = _core.version
#: Path of the loaded C core library.
library_path = _core.library_path
#: Names of the statistics, in the core's order.
STATS = _core.STATS

__all__ = ["block_stats", "block_corr", "block_output_shape", "block_input_region",
           "nlm_denoise", "nlm_input_region", "STATS", "library_path", "__version__"]


def _is_dask_array(x):
    """True for a dask array (without importing dask when it is not loaded)."""
    da = sys.modules.get("dask.array")
    return da is not None and isinstance(x, da.Array)


def _dispatching(numpy_function, arrays):
    """numpy_function, except that when one of the arguments named `arrays`
    is a dask array it calls the function of the same name in
    blockwise.dask, which takes the same arguments but threads."""
    signature = inspect.signature(numpy_function)

    @functools.wraps(numpy_function)
    def function(*args, **kwargs):
        try:
            bound = signature.bind_partial(*args, **kwargs)
        except TypeError:
            return numpy_function(*args, **kwargs)  # raises the call's own TypeError
        if not any(_is_dask_array(bound.arguments.get(a)) for a in arrays):
            return numpy_function(*args, **kwargs)
        if bound.arguments.pop("threads", None) is not None:
            raise ValueError("threads= applies to numpy arrays; for dask arrays the "
                             "scheduler decides the parallelism")
        from . import dask
        return getattr(dask, numpy_function.__name__)(*bound.args, **bound.kwargs)

    function.__module__ = __name__  # pickled by reference as blockwise.<name>
    return function


block_stats = _dispatching(_numpy.block_stats, ("x", "y"))
block_corr = _dispatching(_numpy.block_corr, ("x", "y"))
nlm_denoise = _dispatching(_nlm.nlm_denoise, ("x",))
