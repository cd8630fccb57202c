"""Theoretical receptive fields of a model's layers, computed from the model's own torch graph.

One forward pass on a meta tensor (shapes only, no arithmetic) records every aten op; per spatial
axis of the input, each tensor carries the receptive-field parameters of its units (Araujo, Norris &
Sim, "Computing Receptive Fields of Convolutional Neural Networks", Distill 2019):

- ``size`` r: the extent, in input pixels, of one unit's receptive field;
- ``jump`` j: the distance, in input pixels, between the fields of adjacent units (effective stride);
- ``start``: the centre of the first unit's field, in input pixel coordinates (pixel i is centred
  at i, so a field of size r centred at ``start`` spans [start − (r−1)/2, start + (r−1)/2]; the
  paper's effective padding is (r−1)/2 − start).

A window op (convolution, max/avg pooling, padding, cropping) of kernel k, stride s, dilation d and
leading padding p maps (r, j, start) to (r + (k_eff−1)·j, j·s, start + ((k_eff−1)/2 − p)·j), with
k_eff = d·(k−1) + 1. Element-wise ops keep the parameters; where paths merge (add, mul, cat across
channels) the field is the union of the aligned paths' fields. Reductions over space (global pooling),
flattening a map into a vector and mixing tokens leave a unit depending on the whole input: such a
layer has *no spatial map*. A spatial map that is also modulated by a whole-image signal
(squeeze-and-excitation gates, group norm, attention) keeps its local field and is flagged
``global_context`` — strictly, its units then depend on the whole image.

Limits: 2-D spatial maps only; upsampling, transposed convolutions, unfold, and maps split into
windows or concatenated along space are not followed (a layer depending on them is an error, or a
layer without a spatial map); adaptive pooling to a size that does not divide its input is approximated
by its largest bin.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import reduce

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten, tree_map

from brainbench.errors import BrainbenchError, ModelError
from brainbench.models.layers import check_layers

aten = torch.ops.aten
AXES = (0, 1)  # input height, input width


@dataclass(frozen=True)
class ReceptiveField:
    """A layer's theoretical receptive field, in pixels of the model's (square) input.

    ``size_px``/``jump_px``/``start_px`` are those of the input axis with the larger field (height when
    equal); ``size_hw``/``jump_hw``/``start_hw`` give both axes. A layer whose output has no spatial map
    (``spatial`` false: a pooled vector, logits, a token sequence) covers the whole input: size and jump
    are the input size and the start is the input's centre.
    """

    layer: str
    size_px: int
    jump_px: float
    start_px: float
    output_shape: tuple[int, ...]
    spatial: bool = True
    global_context: bool = False
    size_hw: tuple[int, int] | None = None
    jump_hw: tuple[float, float] | None = None
    start_hw: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        for name, value in (("size_hw", self.size_px), ("jump_hw", self.jump_px), ("start_hw", self.start_px)):
            if getattr(self, name) is None:
                object.__setattr__(self, name, (value, value))


def to_degrees(px: float, input_size: int, visual_degrees: float) -> float:
    """``px`` pixels of a model input ``input_size`` px wide that spans ``visual_degrees``, in degrees."""
    return px * visual_degrees / input_size


# --- receptive-field algebra -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Span:
    """Along one input axis: field size r (px), jump j (px) and the first unit's centre (px)."""

    size: float
    jump: float
    start: float

    @property
    def left(self) -> float:
        return self.start - (self.size - 1) / 2

    @property
    def right(self) -> float:
        return self.start + (self.size - 1) / 2

    def window(self, kernel: float, stride: float, pad: float, dilation: int = 1) -> _Span:
        """After a window op of ``kernel`` × ``stride`` with ``pad`` px of leading padding."""
        extent = dilation * (kernel - 1)
        return _Span(self.size + extent * self.jump, self.jump * stride, self.start + (extent / 2 - pad) * self.jump)

    def union(self, other: _Span) -> _Span:
        """Two aligned paths' fields merged: the interval covering both (first unit's; jumps should agree)."""
        left, right = min(self.left, other.left), max(self.right, other.right)
        return _Span(right - left + 1, max(self.jump, other.jump), (left + right) / 2)


Piece = tuple[int, int | None]  # (extent, input axis or None): a tensor dim is one or more pieces, outermost first
Dim = tuple[Piece, ...]


@dataclass(frozen=True)
class _Field:
    """What a tensor's elements depend on: which dims map which input axis, and each axis's span.

    An axis with no span is lost: every element depends on the whole input along it. A dim made of
    several pieces holds axes folded together (a flattened map), still followed through reshapes.
    """

    dims: tuple[Dim, ...]
    spans: tuple[_Span | None, _Span | None]
    context: bool = False
    unsupported: str | None = None

    def locate(self, axis: int) -> int | None:
        """The dim holding ``axis``, if it has a span."""
        if self.spans[axis] is None:
            return None
        return next((i for i, dim in enumerate(self.dims) if any(a == axis for _, a in dim)), None)

    def map_dim(self, axis: int) -> int | None:
        """The dim that is exactly a map along ``axis`` (no other axis or channel folded in), if any."""
        i = self.locate(axis)
        if i is None:
            return None
        pieces = [p for p in self.dims[i] if p != (1, None)]
        return i if pieces == [(_extent(self.dims[i]), axis)] else None


def _extent(dim: Dim) -> int:
    return math.prod(n for n, _ in dim)


def _plain(shape: Sequence[int]) -> tuple[Dim, ...]:
    return tuple(((int(n), None),) for n in shape)


def _lose(f: _Field, axes: Sequence[int]) -> _Field:
    """``f`` with ``axes`` lost (each element now depends on the whole input along them)."""
    axes = [a for a in axes if f.spans[a] is not None]
    if not axes:
        return f
    dims = tuple(tuple((n, None if a in axes else a) for n, a in dim) for dim in f.dims)
    spans = tuple(None if a in axes else s for a, s in zip(AXES, f.spans, strict=True))
    return replace(f, dims=dims, spans=spans)


def _axes_in(f: _Field, dims: Sequence[int]) -> list[int]:
    return [a for i in dims for _, a in f.dims[i] if a is not None]


def _with_dims(f: _Field, dims: Sequence[Dim]) -> _Field:
    """``f`` with new dims; axes no longer present are lost."""
    present = {a for dim in dims for _, a in dim}
    spans = tuple(s if a in present else None for a, s in zip(AXES, f.spans, strict=True))
    return replace(f, dims=tuple(dims), spans=spans)


def _merge(operands: Sequence[_Field], shape: Sequence[int]) -> _Field:
    """Element-wise combination of broadcast ``operands`` into ``shape``: the union of aligned fields.

    An operand without a map along an axis another operand maps (a broadcast gate, a pooled vector)
    makes every element depend on the whole input: the local field is kept and flagged as context.
    """
    dims = list(_plain(shape))
    spans: list[_Span | None] = [None, None]
    context = any(f.context for f in operands)
    unsupported = next((f.unsupported for f in operands if f.unsupported), None)
    for axis in AXES:
        found, missing = [], False
        for f in operands:
            i = f.locate(axis)
            k = None if i is None else i + len(shape) - len(f.dims)
            if i is None or k < 0 or _extent(f.dims[i]) != shape[k]:
                missing = True
                continue
            found.append((k, f.dims[i], f.spans[axis]))
        if not found:
            continue
        k, pieces, _ = found[0]
        aligned = [s for kk, p, s in found if (kk, p) == (k, pieces)]
        spans[axis], dims[k] = reduce(_Span.union, aligned), pieces
        context = context or missing or len(aligned) < len(found)
    seen: set[int] = set()
    for k, dim in enumerate(dims):  # an axis kept in two dims (attention scores) keeps its first
        clash = [a for _, a in dim if a is not None and (a in seen or spans[a] is None)]
        context = context or any(spans[a] is not None for a in clash)
        dims[k] = tuple((n, None if a in clash else a) for n, a in dim)
        seen.update(a for _, a in dims[k] if a is not None)
    return _Field(tuple(dims), (spans[0], spans[1]), context, unsupported)


def _reshape(f: _Field, shape: Sequence[int]) -> _Field:
    """A view or reshape (element order kept): pieces regrouped into the new dims; a split axis is lost."""
    if not shape or 0 in shape or any(n == 0 for dim in f.dims for n, _ in dim):
        return _with_dims(f, _plain(shape))
    queue = [p for dim in f.dims for p in dim if p != (1, None)]
    lost: set[int] = set()
    dims, i = [], 0
    for size in shape:
        dim, need = [], int(size)
        while i < len(queue) and (need > 1 or queue[i][0] == 1):
            n, a = queue[i]
            if n == 1 or need % n == 0:
                dim.append((n, a))
                need //= n
                i += 1
            elif n % need == 0:  # this piece is split across dims
                lost.update([a] if a is not None else [])
                dim.append((need, None))
                queue[i] = (n // need, a)
                need = 1
            else:
                return _lose(_with_dims(f, _plain(shape)), AXES)
        dims.append(tuple(dim) or ((1, None),))
    dims[-1] += tuple(queue[i:])  # trailing extent-1 pieces
    dims = [tuple((n, None if a in lost else a) for n, a in dim) for dim in dims]
    return _with_dims(f, dims)


# --- aten op handlers ---------------------------------------------------------------------------------
#
# A handler gets the op's bound arguments, the field of its first tensor argument, its outputs and a
# look-up of any tensor's field; it returns one field per output, or None for an op it cannot follow.

Get = Callable[[object], "_Field | None"]
Handler = Callable[[dict, _Field, list[torch.Tensor], Get], "list[_Field | None] | None"]


def _bind(func: torch._ops.OpOverload, args: tuple, kwargs: dict) -> dict[str, object]:
    """An op's arguments by schema name, defaults filled in."""
    bound = {}
    for i, arg in enumerate(func._schema.arguments):
        if i < len(args):
            bound[arg.name] = args[i]
        elif arg.name in kwargs:
            bound[arg.name] = kwargs[arg.name]
        elif arg.has_default_value():
            bound[arg.name] = arg.default_value
    return bound


def _ints(value: object, n: int, default: int) -> list[int]:
    """An int-or-list op argument as ``n`` ints."""
    if value is None or value == []:
        return [default] * n
    values = [int(v) for v in value] if isinstance(value, list | tuple) else [int(value)]
    return values * n if len(values) == 1 else values


def _dims_arg(value: object, ndim: int) -> list[int]:
    """A dim-or-dims op argument as non-negative dims; none given means all."""
    if value is None or value == []:
        return list(range(ndim))
    values = value if isinstance(value, list | tuple) else [value]
    return [int(v) % max(ndim, 1) for v in values]


def _whole(fields: Sequence[_Field], shape: Sequence[int]) -> _Field:
    """An output depending on the whole input (no map), keeping any unsupported op upstream."""
    unsupported = next((f.unsupported for f in fields if f.unsupported), None)
    return _Field(_plain(shape), (None, None), unsupported=unsupported)


def _window(f: _Field, out: torch.Tensor, windows: Sequence[tuple[float, float, float, int]], mixes: bool) -> _Field:
    """A window op over the last ``len(windows)`` dims, each (kernel, stride, leading pad, dilation).

    ``mixes``: the op mixes the dim before them (a convolution's channels); an axis folded there is lost.
    """
    nd, k = len(f.dims), len(windows)
    if mixes and nd > k:
        f = _lose(f, _axes_in(f, [nd - k - 1]))
    dims, spans = list(f.dims), list(f.spans)
    for d, (kernel, stride, pad, dilation) in zip(range(nd - k, nd), windows, strict=True):
        axis = next((a for a in AXES if f.map_dim(a) == d), None)
        if (kernel, stride, pad) == (1, 1, 0) and out.shape[d] == _extent(f.dims[d]):
            continue  # untouched
        if axis is None:  # not a plain map along one axis: whatever is folded here is lost
            spans = [None if a in _axes_in(f, [d]) else s for a, s in zip(AXES, spans, strict=True)]
            dims[d] = ((out.shape[d], None),)
        else:
            spans[axis] = spans[axis].window(kernel, stride, pad, dilation)
            dims[d] = ((out.shape[d], axis),)
    if mixes and nd > k:
        dims[nd - k - 1] = ((out.shape[nd - k - 1], None),)
    return _with_dims(replace(f, spans=(spans[0], spans[1])), dims)


def _extra(f: _Field, outs: list[torch.Tensor]) -> list[_Field]:
    """Secondary outputs (pooling indices, normalisation statistics): whole-input, no map."""
    return [_whole([f], o.shape) for o in outs[1:]]


def _conv(b: dict, f: _Field, outs: list[torch.Tensor], get: Get) -> list[_Field] | None:
    if b["transposed"] or get(b["weight"]) is not None:
        return None
    kernel = b["weight"].shape[2:]
    n = len(kernel)
    stride, padding, dilation = _ints(b["stride"], n, 1), _ints(b["padding"], n, 0), _ints(b["dilation"], n, 1)
    return [_window(f, outs[0], list(zip(kernel, stride, padding, dilation, strict=True)), mixes=True)]


def _pool(b: dict, f: _Field, outs: list[torch.Tensor], get: Get) -> list[_Field]:
    kernel = _ints(b["kernel_size"], 2, 1)
    stride = [s or k for s, k in zip(_ints(b.get("stride"), 2, 0), kernel, strict=True)]  # none given: the kernel
    padding, dilation = _ints(b.get("padding"), 2, 0), _ints(b.get("dilation"), 2, 1)
    windows = list(zip(kernel, stride, padding, dilation, strict=True))
    return [_window(f, outs[0], windows, mixes=False), *_extra(f, outs)]


def _adaptive_pool(b: dict, f: _Field, outs: list[torch.Tensor], get: Get) -> list[_Field]:
    """Exact when the output size divides the input's; global when pooled to 1; else its largest bin."""
    windows = []
    for n_in, n_out in zip([_extent(d) for d in f.dims[-2:]], outs[0].shape[-2:], strict=True):
        if n_out == 1:
            windows.append(None)
        elif n_in % n_out == 0:
            windows.append((n_in // n_out, n_in // n_out, 0, 1))
        else:
            largest = max(math.ceil((i + 1) * n_in / n_out) - (i * n_in) // n_out for i in range(n_out))
            windows.append((largest, n_in / n_out, 0, 1))
    nd = len(f.dims)
    f = _lose(f, _axes_in(f, [nd - 2 + i for i, w in enumerate(windows) if w is None]))
    return [_window(f, outs[0], [w or (1, 1, 0, 1) for w in windows], mixes=False), *_extra(f, outs)]


def _pad(b: dict, f: _Field, outs: list[torch.Tensor], get: Get) -> list[_Field] | None:
    """Constant, reflection or replication padding (negative: cropping); ``pad`` lists the last dim first."""
    if b.get("mode", "constant") not in ("constant", "reflect", "replicate"):
        return None
    pad = [int(p) for p in (b["pad"] if "pad" in b else b["padding"])]
    before = [pad[i] for i in range(0, len(pad), 2)][::-1]
    return [_window(f, outs[0], [(1, 1, p, 1) for p in before], mixes=False)]


def _reduce(b: dict, f: _Field, outs: list[torch.Tensor], get: Get) -> list[_Field]:
    """A reduction over ``dim`` (all dims when none given): axes in reduced dims are lost."""
    reduced = _dims_arg(b.get("dim"), len(f.dims))
    f = _lose(f, _axes_in(f, reduced))
    if b.get("keepdim"):
        dims = [((1, None),) if i in reduced else dim for i, dim in enumerate(f.dims)]
    else:
        dims = [dim for i, dim in enumerate(f.dims) if i not in reduced]
    return [_with_dims(f, dims) for _ in outs]


def _mixing(dim_arg: str | None, last: int = 0) -> Handler:
    """Shape kept, elements mixed along the dim named ``dim_arg`` or the ``last`` dims (softmax, norms).

    A mixed axis keeps its local field and is flagged as whole-input context.
    """

    def handler(b: dict, f: _Field, outs: list[torch.Tensor], get: Get) -> list[_Field]:
        nd = len(f.dims)
        if dim_arg == "normalized_shape":
            mixed = list(range(nd - len(b[dim_arg]), nd))
        else:
            mixed = _dims_arg(b[dim_arg], nd) if dim_arg else list(range(last, nd))
        return [replace(f, context=f.context or bool(_axes_in(f, mixed))), *_extra(f, outs)]

    return handler


def _batch_norm(b: dict, f: _Field, outs: list[torch.Tensor], get: Get) -> list[_Field]:
    """Per-channel affine in eval mode; statistics over space (hence context) when computing them."""
    if b.get("training") or b.get("use_input_stats"):
        return _mixing(None, last=2)(b, f, outs, get)
    return [f, *_extra(f, outs)]


def _slice_dim(f: _Field, d: int, start: int, step: int, out: torch.Tensor) -> _Field:
    """Elements ``start::step`` along dim ``d``: along a map, a window of size 1."""
    if start == 0 and step == 1 and out.shape[d] == _extent(f.dims[d]):
        return f
    axis = next((a for a in AXES if f.map_dim(a) == d), None)
    spans = list(f.spans)
    if axis is None:
        f = _lose(f, _axes_in(f, [d]))
        spans = list(f.spans)
    else:
        spans[axis] = spans[axis].window(1, step, -start)
    dims = [((out.shape[d], axis),) if i == d else dim for i, dim in enumerate(f.dims)]
    return _with_dims(replace(f, spans=(spans[0], spans[1])), dims)


def _slice(b: dict, f: _Field, outs: list[torch.Tensor], get: Get) -> list[_Field]:
    d = _dims_arg(b["dim"], len(f.dims))[0]
    n = _extent(f.dims[d])
    start = b.get("start") or 0
    start = min(max(0, start + n if start < 0 else start), n)
    return [_slice_dim(f, d, start, int(b.get("step") or 1), outs[0])]


def _split(b: dict, f: _Field, outs: list[torch.Tensor], get: Get) -> list[_Field]:
    d = _dims_arg(b.get("dim", 0), len(f.dims))[0]
    starts = itertools.accumulate([0] + [o.shape[d] for o in outs[:-1]])
    return [_slice_dim(f, d, s, 1, o) for s, o in zip(starts, outs, strict=True)]


def _select(b: dict, f: _Field, outs: list[torch.Tensor], get: Get) -> list[_Field]:
    """One index along a dim (``select``, ``unbind``): the dim goes; an axis in it is lost."""
    return _reduce({"dim": b["dim"]}, f, outs, get)


def _reshape_op(b: dict, f: _Field, outs: list[torch.Tensor], get: Get) -> list[_Field]:
    return [_reshape(f, o.shape) for o in outs]


def _permute(b: dict, f: _Field, outs: list[torch.Tensor], get: Get) -> list[_Field]:
    return [_with_dims(f, [f.dims[i] for i in _dims_arg(b["dims"], len(f.dims))])]


def _transpose(b: dict, f: _Field, outs: list[torch.Tensor], get: Get) -> list[_Field]:
    d0, d1 = _dims_arg([b.get("dim0", 0), b.get("dim1", 1)], len(f.dims))
    dims = list(f.dims)
    dims[d0], dims[d1] = dims[d1], dims[d0]
    return [_with_dims(f, dims)]


def _roll(b: dict, f: _Field, outs: list[torch.Tensor], get: Get) -> list[_Field]:
    """A cyclic shift: a map rolled along an axis wraps around, so the axis is lost."""
    return [_lose(f, _axes_in(f, _dims_arg(b["dims"], len(f.dims))))]


def _concat(stack: bool) -> Handler:
    """``cat`` (``stack``: along a new dim): the union of the aligned fields; an axis in the joined dim is lost."""

    def handler(b: dict, f: _Field, outs: list[torch.Tensor], get: Get) -> list[_Field]:
        out = outs[0]
        d = _dims_arg(b.get("dim", 0), out.dim())[0]
        tracked = [t for t in b["tensors"] if get(t) is not None]
        fields = [_reshape(get(t), [*t.shape[:d], 1, *t.shape[d:]]) if stack else get(t) for t in tracked]
        fields = [_lose(g, _axes_in(g, [d])) for g in fields]
        joined = ((out.shape[d], None),)
        fields = [_with_dims(g, [joined if i == d else dim for i, dim in enumerate(g.dims)]) for g in fields]
        return [_merge(fields, out.shape)]

    return handler


def _matmul_operands(a: _Field | None, b: _Field | None, out: torch.Tensor) -> list[_Field]:
    """``a`` (…, M, K) @ ``b`` (…, K, N) as two broadcast operands: rows follow ``a``, columns ``b``.

    A contracted axis is lost: each output element sums over all of it.
    """
    operands = []
    if a is not None:
        a = _lose(a, _axes_in(a, [len(a.dims) - 1]))
        operands.append(_with_dims(a, [*a.dims[:-1], ((out.shape[-1], None),)]))
    if b is not None:
        b = _lose(b, _axes_in(b, [len(b.dims) - 2]))
        operands.append(_with_dims(b, [*b.dims[:-2], ((out.shape[-2], None),), b.dims[-1]]))
    return operands


def _matmul(left: str, right: str) -> Handler:
    """``mm``/``bmm`` (and with ``self`` added: ``addmm``/``baddbmm``)."""

    def handler(b: dict, f: _Field, outs: list[torch.Tensor], get: Get) -> list[_Field]:
        operands = _matmul_operands(get(b[left]), get(b[right]), outs[0])
        if left != "self" and get(b["self"]) is not None:
            operands.append(get(b["self"]))
        return [_merge(operands, outs[0].shape)]

    return handler


def _attention(b: dict, f: _Field, outs: list[torch.Tensor], get: Get) -> list[_Field]:
    """Scaled dot-product attention: queries keep their map; keys and values make it whole-input context."""
    out = outs[0]
    operands = []
    for name in ("key", "value"):
        if (g := get(b[name])) is not None:
            g = _lose(g, _axes_in(g, [len(g.dims) - 2, len(g.dims) - 1]))
            operands.append(_with_dims(g, [*g.dims[:-2], *_plain(out.shape[-2:])]))
    if (q := get(b["query"])) is not None:
        q = _lose(q, _axes_in(q, [len(q.dims) - 1]))
        operands.insert(0, _with_dims(q, [*q.dims[:-1], ((out.shape[-1], None),)]))
    first = _merge(operands, out.shape)
    return [first, *_extra(first, outs)]


def _identity(b: dict, f: _Field, outs: list[torch.Tensor], get: Get) -> list[_Field]:
    return [f, *_extra(f, outs)]


def _copy(b: dict, f: _Field, outs: list[torch.Tensor], get: Get) -> list[_Field | None]:
    """``dst.copy_(src)``: the destination takes the source's field, broadcast."""
    src = get(b["src"])
    return [None if src is None else _merge([src], outs[0].shape)]


def _expand(b: dict, f: _Field, outs: list[torch.Tensor], get: Get) -> list[_Field]:
    return [_merge([f], outs[0].shape)]


def _ops(*names: str) -> list[object]:
    """The aten op packets of these names that this torch version has."""
    return [getattr(aten, name) for name in names if hasattr(aten, name)]


_HANDLERS: dict[object, Handler] = {
    **dict.fromkeys(_ops("clone", "alias", "detach", "_to_copy", "lift_fresh", "lift_fresh_copy", "native_dropout",
                         "dropout", "contiguous"), _identity),
    **dict.fromkeys(_ops("view", "_unsafe_view", "reshape", "squeeze", "unsqueeze", "flatten", "unflatten",
                         "view_copy", "_reshape_alias"), _reshape_op),
    **dict.fromkeys(_ops("mean", "sum", "amax", "amin", "max", "min", "var", "std", "var_mean", "std_mean", "prod",
                         "logsumexp", "argmax", "argmin", "linalg_vector_norm", "norm", "any", "all", "nansum",
                         "nanmean"), _reduce),
    **dict.fromkeys(_ops("_softmax", "_safe_softmax", "_log_softmax", "softmax", "log_softmax", "cumsum", "cumprod",
                         "logcumsumexp"), _mixing("dim")),
    **dict.fromkeys(_ops("max_pool2d_with_indices", "max_pool2d", "avg_pool2d"), _pool),
    **dict.fromkeys(_ops("_adaptive_avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d"), _adaptive_pool),
    **dict.fromkeys(_ops("constant_pad_nd", "reflection_pad2d", "replication_pad2d", "pad"), _pad),
    **dict.fromkeys(_ops("native_batch_norm", "_native_batch_norm_legit", "batch_norm", "instance_norm"), _batch_norm),
    **dict.fromkeys(_ops("split", "split_with_sizes", "unsafe_split"), _split),
    **dict.fromkeys(_ops("select", "unbind"), _select),
    **dict.fromkeys(_ops("transpose", "t", "swapaxes"), _transpose),
    **dict.fromkeys(_ops("_scaled_dot_product_flash_attention_for_cpu", "_scaled_dot_product_flash_attention",
                         "_scaled_dot_product_efficient_attention", "_scaled_dot_product_cudnn_attention",
                         "scaled_dot_product_attention"), _attention),
    aten.cat: _concat(stack=False),
    aten.stack: _concat(stack=True),
    aten.native_layer_norm: _mixing("normalized_shape"),
    aten.native_group_norm: _mixing(None, last=1),
    aten.convolution: _conv,
    aten.slice: _slice,
    aten.permute: _permute,
    aten.roll: _roll,
    aten.expand: _expand,
    aten.copy_: _copy,
    aten.mm: _matmul("self", "mat2"),
    aten.bmm: _matmul("self", "mat2"),
    aten.addmm: _matmul("mat1", "mat2"),
    aten.baddbmm: _matmul("batch1", "batch2"),
}
# Ops whose image input may come after an untracked first argument (a bias, a list, a destination).
_ANY_ARGUMENT = {aten.cat, aten.stack, aten.addmm, aten.baddbmm, aten.mm, aten.bmm, aten.copy_}
# Element-wise ops that lack torch's pointwise tag.
_ELEMENTWISE = set(_ops("hardswish", "prelu", "_prelu_kernel", "log_sigmoid_forward", "rrelu_with_noise",
                        "_native_batch_norm_legit_no_training", "where", "masked_fill", "lerp", "addcmul", "addcdiv",
                        "clamp_min", "clamp_max"))
# Ops whose outputs do not depend on the values of their inputs.
_CONSTANT = set(_ops("empty_like", "zeros_like", "ones_like", "full_like", "rand_like", "randn_like", "new_empty",
                     "new_zeros", "new_ones", "new_full", "new_empty_strided", "zero_", "fill_", "bernoulli_",
                     "normal_", "uniform_"))


_INPLACE_TAG = getattr(torch.Tag, "inplace", None)  # absent before torch 2.12: fall back on the trailing '_'


def _pointwise(func: torch._ops.OpOverload) -> bool:
    """Whether ``func`` computes each output element from the same position of its (broadcast) inputs."""
    if torch.Tag.pointwise in func.tags or func.overloadpacket in _ELEMENTWISE:
        return True
    name = func.overloadpacket.__name__
    inplace = _INPLACE_TAG in func.tags if _INPLACE_TAG is not None else True
    if inplace and name.endswith("_"):  # relu_ → relu: some in-place ops lack the pointwise tag
        functional = getattr(aten, name[:-1], None)
        overload = getattr(functional, func._overloadname, None) if functional is not None else None
        return overload is not None and _pointwise(overload)
    return False


def _propagate(func: torch._ops.OpOverload, args: tuple, kwargs: dict, outs: list[torch.Tensor], get: Get) -> list:
    """The field of each tensor in ``outs`` (None: it does not depend on the input image)."""
    packet = func.overloadpacket
    tracked = [f for f in map(get, tree_flatten((args, kwargs))[0]) if f is not None]
    if not tracked or packet in _CONSTANT:
        return [None] * len(outs)
    if all(f.spans == (None, None) for f in tracked):  # already depends on the whole input: nothing can narrow it
        return [_whole(tracked, o.shape) for o in outs]
    if _pointwise(func):
        return [_merge(tracked, o.shape) for o in outs]
    first = get(args[0]) if args else None
    handler = _HANDLERS.get(packet)
    result = None
    if handler is not None and (first is not None or packet in _ANY_ARGUMENT):
        result = handler(_bind(func, args, kwargs), first or tracked[0], outs, get)
    if result is None:
        return [replace(_whole(tracked, o.shape), unsupported=str(func)) for o in outs]
    return result


# --- tracing ------------------------------------------------------------------------------------------


class _Tracer(TorchDispatchMode):
    """Follows every aten op, recording the field of each tensor that depends on the input image.

    With ``meta`` set, an op touching a meta tensor (the input and all that derives from it) runs on
    meta copies of its arguments: shapes flow, no arithmetic is done.
    """

    def __init__(self, meta: bool) -> None:
        super().__init__()
        self.meta = meta
        self._fields: dict[int, tuple[weakref.ref, _Field]] = {}

    def get(self, t: object) -> _Field | None:
        """The field of tensor ``t``; None when it does not depend on the input (or is not a tensor)."""
        if not isinstance(t, torch.Tensor):
            return None
        entry = self._fields.get(id(t))
        return entry[1] if entry is not None and entry[0]() is t else None

    def set(self, t: torch.Tensor, f: _Field | None) -> None:
        if f is None:
            self._fields.pop(id(t), None)
        else:
            self._fields[id(t)] = (weakref.ref(t), f)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # torch's signature
        kwargs = kwargs or {}
        if self.meta and any(isinstance(t, torch.Tensor) and t.is_meta for t in tree_flatten((args, kwargs))[0]):
            args, kwargs = tree_map(_to_meta, (args, kwargs))
        before = self.get(args[0]) if args else None
        result = func(*args, **kwargs)
        outs = [t for t in tree_flatten(result)[0] if isinstance(t, torch.Tensor)]
        if outs:
            for t, f in zip(outs, _propagate(func, args, kwargs, outs, self.get), strict=True):
                self.set(t, f)
            if args and outs[0] is args[0] and outs[0]._base is not None and self.get(outs[0]) != before:
                # an in-place write into a view also changes the tensor it views, which is not followed
                base = outs[0]._base
                whole = _whole([before] if before else [], base.shape)
                self.set(base, replace(whole, unsupported="a write into a view"))
        return result


def _to_meta(t: object) -> object:
    return t.to("meta") if isinstance(t, torch.Tensor) and not t.is_meta else t


def _first_tensor(output: object) -> torch.Tensor | None:
    """The tensor a layer emits (the first one when it returns a tuple or list)."""
    if isinstance(output, torch.Tensor):
        return output
    if isinstance(output, Sequence) and output and isinstance(output[0], torch.Tensor):
        return output[0]
    return None


class _Stop(Exception):
    """Every requested layer has been seen: the rest of the network is not needed."""


@contextlib.contextmanager
def _eval(module: nn.Module) -> Iterator[None]:
    """Eval mode (batch norm acts per position), restoring each submodule's mode afterwards."""
    modes = [(m, m.training) for m in module.modules()]
    module.eval()
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training


def _input(module: nn.Module, input_size: int, meta: bool) -> torch.Tensor:
    """A zero image batch of one, with the first convolution's channels and the parameters' dtype and device."""
    conv = next((m for m in module.modules() if isinstance(m, nn.Conv2d)), None)
    param = next((p for p in module.parameters() if p.is_floating_point()), None)
    dtype = param.dtype if param is not None else torch.float32
    device = "meta" if meta else (param.device if param is not None else "cpu")
    return torch.zeros(1, conv.in_channels if conv else 3, input_size, input_size, dtype=dtype, device=device)


Traced = dict[str, tuple[_Field | None, tuple[int, ...] | None]]  # (field, shape); shape None: no tensor out


def _trace(module: nn.Module, layers: Sequence[str], input_size: int, meta: bool) -> Traced:
    """``{layer: (field of its output, output shape)}`` from one forward pass, stopped after the last layer."""
    modules = dict(module.named_modules())
    seen: Traced = {}
    tracer = _Tracer(meta)

    def hook_for(layer: str) -> Callable[[nn.Module, object, object], None]:
        def hook(_module: nn.Module, _inputs: object, output: object) -> None:
            if layer in seen:  # a module called twice keeps its first output, as activations do
                return
            t = _first_tensor(output)
            seen[layer] = (tracer.get(t), tuple(t.shape)) if t is not None else (None, None)
            if len(seen) == len(modules_hooked):
                raise _Stop

        return hook

    x = _input(module, input_size, meta)
    first = _Span(1.0, 1.0, 0.0)
    dims = ((x.shape[0], None),), ((x.shape[1], None),), ((input_size, 0),), ((input_size, 1),)
    tracer.set(x, _Field(dims, (first, first)))
    modules_hooked = list(dict.fromkeys(layers))
    handles = [modules[layer].register_forward_hook(hook_for(layer)) for layer in modules_hooked]
    try:
        with _eval(module), torch.no_grad(), tracer, contextlib.suppress(_Stop):
            module(x)
    finally:
        for handle in handles:
            handle.remove()
    return seen


def _report(layer: str, f: _Field, shape: tuple[int, ...], input_size: int) -> ReceptiveField:
    if f.unsupported:
        raise ModelError(
            f"Cannot compute the receptive field of layer '{layer}': it depends on {f.unsupported}, "
            "which brainbench does not follow."
        )
    if any(f.map_dim(a) is None for a in AXES):  # no 2-D map: one unit sees the whole input
        return ReceptiveField(layer, input_size, float(input_size), (input_size - 1) / 2, shape, spatial=False)
    spans = [f.spans[a] for a in AXES]
    size = (math.ceil(spans[0].size - 1e-9), math.ceil(spans[1].size - 1e-9))
    jump, start = (float(spans[0].jump), float(spans[1].jump)), (float(spans[0].start), float(spans[1].start))
    main = 1 if size[1] > size[0] else 0
    return ReceptiveField(layer, size[main], jump[main], start[main], shape, True, f.context, size, jump, start)


def receptive_fields(module: nn.Module, layers: Sequence[str], input_size: int = 224) -> list[ReceptiveField]:
    """The theoretical receptive field of each of ``layers`` (any named modules) for a square input.

    Computed from the module's own graph in one shape-only forward pass (a real one, on zeros, if the
    model cannot run on meta tensors). An unknown layer name raises the standard unknown-layer error;
    a layer without a spatial map is reported with ``spatial`` false, and a BrainbenchError is raised
    when no requested layer has one (e.g. a vision transformer's token blocks).
    """
    layers = check_layers(module, list(layers))
    if not layers:
        return []
    if input_size < 1:
        raise BrainbenchError(f"The input size must be a positive number of pixels, not {input_size}.")
    try:
        traced = _trace(module, layers, input_size, meta=True)
    except BrainbenchError:
        raise
    except Exception:  # e.g. a data-dependent op, which meta tensors cannot run
        try:
            traced = _trace(module, layers, input_size, meta=False)
        except Exception as exc:
            raise ModelError(
                f"Could not run {type(module).__name__} on a {input_size} px input to trace its receptive "
                f"fields ({type(exc).__name__}: {exc})."
            ) from exc
    missing = [layer for layer in layers if layer not in traced]
    if missing:
        raise ModelError(f"Layer(s) {', '.join(missing)} produced no output in a forward pass.")
    no_tensor = [layer for layer in layers if traced[layer][1] is None]
    if no_tensor:
        raise ModelError(f"Layer(s) {', '.join(no_tensor)} output no tensor, so they have no receptive field.")
    unmapped = [layer for layer in layers if traced[layer][0] is None]
    if unmapped:
        raise ModelError(f"The output of layer(s) {', '.join(unmapped)} does not depend on the input image.")
    fields = [_report(layer, *traced[layer], input_size) for layer in layers]
    if not any(rf.spatial for rf in fields):
        names = ", ".join(layers[:4]) + (f" and {len(layers) - 4} more" if len(layers) > 4 else "")
        raise BrainbenchError(
            f"No requested layer of {type(module).__name__} has a spatial map ({names}), so none has a "
            "receptive field; choose convolutional layers before global pooling or token flattening."
        )
    return fields
