"""Arguments of the local statistics and of the block displacement.

As blockwise._args does for the block operations and denoising: Python
checks the kinds of values, how many there are and which axes they cover;
the parameter structures made here then go through the core's checks
(bw_local_params_check, bw_shift_params_check), whose messages become
ValueError.  Defaults left as None are the core's (bw_local_params_init,
bw_shift_params_init).  The checked parameters travel as Options (plain
values that pickle and tokenize, for dask).
"""
from . import _args as A
from . import _core as C


def _local_defaults():
    p = C.LocalParams()
    C.local_params_init(p, 2, None)
    return dict(radius=p.radius[0], step=p.step[0])


def _shift_defaults():
    p = C.ShiftParams()
    C.shift_params_init(p, 2, None, None)
    return dict(block=p.block[0], search=p.search[0])


#: The core's defaults of the arguments left as None.
LOCAL_DEFAULTS = _local_defaults()
SHIFT_DEFAULTS = _shift_defaults()


# ---------------------------------------------------------------------------
# Local statistics
# ---------------------------------------------------------------------------

class LocalOptions(A.Options):
    """The parameters of local statistics: the number of axes the windows
    cover, radius and step per axis, ddof, fill."""
    FIELDS = ("ndim", "radius", "step", "ddof", "fill")

    def params(self, lead_axis=False):
        """bw_local_params; with lead_axis, for 2-D windows run as 3-D ones
        over a stack of planes (radius 0 and step 1 along the stack)."""
        radius = ((0,) if lead_axis else ()) + tuple(self.radius)
        step = ((1,) if lead_axis else ()) + tuple(self.step)
        p = C.LocalParams()
        C.local_params_init(p, len(radius), C.sizes(radius))
        for i, s in enumerate(step):
            p.step[i] = s
        p.ddof = self.ddof
        if self.fill is not None:
            p.use_fill = 1
            p.fill = self.fill
        return p


def local_options(x_ndim, radius, step, ddof, fill, ndim, what):
    """Every parameter of a local statistic, checked by Python and then by
    the core (bw_local_params_check); `what` names the caller."""
    k = A.operation_ndim(ndim, {"radius": radius, "step": step}, x_ndim,
                         "cover with the windows")
    radius = A.per_axis(LOCAL_DEFAULTS["radius"] if radius is None else radius, "radius", k)
    step = A.per_axis(LOCAL_DEFAULTS["step"] if step is None else step, "step", k,
                      "step", "steps")
    opts = LocalOptions(k, radius, step, A.integer(ddof, "ddof", (1 << 31) - 1),
                        A.parse_fill(fill))
    C.call(C.local_params_check, what, opts.params())
    return opts


def local_stat_codes(stats, have_y):
    """(names, codes, single) as blockwise._args.parse_stats, refusing the
    statistics of the core's table that are not local ones (the core's
    bw_local_stat_supported: bw_local_stats would refuse them only when
    called, and a dask graph should not be built that can only fail)."""
    names, codes, single = A.parse_stats(stats, have_y)
    for name, code in zip(names, codes):
        if not C.local_stat_supported(code):
            local = [s for k, s in enumerate(C.STATS) if C.local_stat_supported(k)]
            raise ValueError(f"stat: {name!r} is not a local statistic; local ones: "
                             f"{', '.join(local)}")
    return names, codes, single


# ---------------------------------------------------------------------------
# Block displacement
# ---------------------------------------------------------------------------

class ShiftOptions(A.Options):
    """The parameters of the block displacement: block sizes, search radii,
    fill."""
    FIELDS = ("block", "search", "fill")

    def params(self, lead_axis=False):
        """bw_shift_params; with lead_axis, for 2-D blocks run as 3-D ones
        over a stack of planes (blocks of extent 1, no search along it)."""
        block = ((1,) if lead_axis else ()) + tuple(self.block)
        search = ((0,) if lead_axis else ()) + tuple(self.search)
        p = C.ShiftParams()
        C.shift_params_init(p, len(block), C.sizes(block), C.sizes(search))
        if self.fill is not None:
            p.use_fill = 1
            p.fill = self.fill
        return p


def shift_options(block, search, fill, x_ndim, what):
    """Every parameter of block_shift, checked by Python and then by the
    core (bw_shift_params_check)."""
    block = A.parse_block(block, x_ndim)
    search = A.per_axis(SHIFT_DEFAULTS["search"] if search is None else search, "search",
                        len(block))
    opts = ShiftOptions(block, search, A.parse_fill(fill))
    C.call(C.shift_params_check, what, opts.params())
    return opts
