"""Parametric sine gratings of Marques et al. (2021): the grids, one image, and fast batches.

Full-contrast sine gratings in circular apertures on mid-gray, drawn on a canvas of 12° at 672 px
(56 px/deg) as Brain-Score's ``marques_gen_stim``: a pixel at column ``c`` lies at
``x = (c − 336)/56 − position_x`` degrees (``y`` likewise, downwards), the grating is
``sin(2π·sf·(x cos θ + y sin θ) + φ)`` inside ``x² + y² ≤ radius²``, and its gray level is
``floor(255·(g + 1)/2)``; outside the aperture the screen is gray 128.

Five experiments share the grids: ``blank`` (one gray screen), ``receptive_field`` (small patches on
a 21 × 21 grid of positions, for mapping), ``orientation``, ``spatial_frequency`` and ``size``. Each
table is ordered with the phase varying fastest, so that responses reshape to the parameter axes.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from PIL import Image

from brainbench.data import cache_files
from brainbench.data.fetch import sha256_of
from brainbench.data.stimuli import StimulusSet

logger = logging.getLogger(__name__)

CANVAS_DEGREES = 12.0
CANVAS_PX = 672
PX_PER_DEGREE = CANVAS_PX / CANVAS_DEGREES
GRAY = 128  # Brain-Score's uint8(255/2 + 1)
POSITION = (0.5, 0.5)  # (y, x) degrees from the canvas centre: where the tuning experiments are shown

RADIUS = np.logspace(-3 + 0.75, 4 - 0.75, 12, base=2) / 2  # deg
SPATIAL_FREQUENCY = np.logspace(-1.5 + 0.125, 4 - 0.125, 22, base=2)  # cycles/deg
ORIENTATION = np.linspace(0, 165, 12)  # deg
PHASE = np.linspace(0, 315, 8)  # deg
RF_POSITIONS = np.linspace(-2.5, 2.5, 21)  # deg, both axes
EXPERIMENTS = ("blank", "receptive_field", "orientation", "spatial_frequency", "size")
COLUMNS = ("position_y", "position_x", "radius", "spatial_frequency", "orientation", "phase", "contrast")


@dataclass(frozen=True)
class Experiment:
    """One experiment's stimuli: ``table`` rows in presentation order and the parameter ``axes``.

    ``axes`` name the grid in row-major order (phase last); ``np.reshape(responses, (-1, *shape))``
    on ``(n_units, n_stimuli)`` responses gives one array axis per entry.
    """

    name: str
    table: pd.DataFrame
    axes: dict[str, np.ndarray]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(v) for v in self.axes.values())


def _grid(axes: dict[str, np.ndarray], fixed: dict[str, float]) -> pd.DataFrame:
    mesh = np.meshgrid(*axes.values(), indexing="ij")
    table = pd.DataFrame({name: m.ravel() for name, m in zip(axes, mesh, strict=True)})
    for name, value in fixed.items():
        table[name] = value
    return table


@cache
def experiment(name: str) -> Experiment:
    """The stimulus grid of one experiment (Brain-Score's Marques2020 stimulus sets)."""
    y, x = POSITION
    if name == "blank":
        table = pd.DataFrame({c: [np.nan] for c in COLUMNS})
        table["contrast"] = 0.0
        axes: dict[str, np.ndarray] = {"blank": np.zeros(1)}
    elif name == "receptive_field":
        axes = {"position_y": RF_POSITIONS, "position_x": RF_POSITIONS,
                "orientation": ORIENTATION[[0, 3, 6, 9]], "phase": PHASE[[0, 4]]}
        table = _grid(axes, {"radius": 1 / 6, "spatial_frequency": 3.0, "contrast": 1.0})
    elif name == "orientation":
        # Apertures of 2, 3 and 4 cycles' diameter at four spatial frequencies ("cycles" of the grid).
        sf = SPATIAL_FREQUENCY[[4, 8, 12, 16]]
        axes = {"cycles": np.array([2.0, 3.0, 4.0]), "spatial_frequency": sf, "orientation": ORIENTATION,
                "phase": PHASE}
        table = _grid(axes, {"position_y": y, "position_x": x, "contrast": 1.0})
        table["radius"] = table["cycles"] / 2 / table["spatial_frequency"]
        table = table.drop(columns="cycles")
    elif name == "spatial_frequency":
        axes = {"radius": np.array([0.75, 2.25]), "spatial_frequency": SPATIAL_FREQUENCY,
                "orientation": ORIENTATION[::2], "phase": PHASE}
        table = _grid(axes, {"position_y": y, "position_x": x, "contrast": 1.0})
    elif name == "size":
        axes = {"radius": RADIUS, "spatial_frequency": SPATIAL_FREQUENCY[[4, 8, 12, 16]],
                "orientation": ORIENTATION[::2], "phase": PHASE}
        table = _grid(axes, {"position_y": y, "position_x": x, "contrast": 1.0})
    else:
        raise ValueError(f"unknown grating experiment {name!r}; known: {', '.join(EXPERIMENTS)}")
    table = table[list(COLUMNS)].astype(float)
    table.index = pd.Index([f"{name}-{i:04d}" for i in range(len(table))], name="stimulus_id")
    table.insert(0, "experiment", name)
    return Experiment(name, table, axes)


def grating_image(row: pd.Series) -> np.ndarray:
    """One stimulus (a table row) on the full canvas: (672, 672) uint8."""
    coords = (np.arange(CANVAS_PX) - CANVAS_PX / 2) / PX_PER_DEGREE
    return _render(torch.from_numpy(coords), _params(pd.DataFrame([row])), torch.float64)[0].numpy().astype(np.uint8)


def grating_stimuli() -> StimulusSet:
    """Every experiment's stimuli as one StimulusSet of 672-px RGB images (12°), rendered on demand."""
    table = pd.concat([experiment(name).table for name in EXPERIMENTS])

    def load(stimulus_id: str) -> Image.Image:
        return Image.fromarray(grating_image(table.loc[stimulus_id])).convert("RGB")

    return StimulusSet("marques2020.gratings", table, load)


def _params(table: pd.DataFrame) -> dict[str, torch.Tensor]:
    columns = {c: torch.tensor(table[c].to_numpy(dtype=np.float64)) for c in COLUMNS}
    columns["blank"] = torch.tensor(table["contrast"].to_numpy() == 0)
    return columns


def _render(coords: torch.Tensor, p: dict[str, torch.Tensor], dtype: torch.dtype) -> torch.Tensor:
    """(batch, n, n) gray levels (integers 0–255 in ``dtype``) sampled at ``coords`` (degrees from the
    canvas centre, the same for rows and columns)."""
    coords = coords.to(dtype)
    theta = torch.deg2rad(p["orientation"]).to(dtype)[:, None]
    k = (2 * torch.pi * p["spatial_frequency"]).to(dtype)[:, None]
    x = coords[None, :] - p["position_x"].to(dtype)[:, None]  # (batch, n): one value per column
    y = coords[None, :] - p["position_y"].to(dtype)[:, None]  # (batch, n): one value per row
    a = k * x * torch.cos(theta) + torch.deg2rad(p["phase"]).to(dtype)[:, None]
    b = k * y * torch.sin(theta)
    contrast = p["contrast"].to(dtype)[:, None]
    # sin(a + b) = cos b · sin a + sin b · cos a: one batched (n × 2)(2 × n) product, no sine per pixel.
    rows = torch.stack((torch.cos(b), torch.sin(b)), dim=2)
    cols = torch.stack((torch.sin(a) * contrast, torch.cos(a) * contrast), dim=1)
    level = torch.bmm(rows, cols).add_(1).mul_(255 / 2).floor_().clamp_(0, 255)
    outside = (y * y)[:, :, None] + (x * x)[:, None, :] > (p["radius"].to(dtype) ** 2)[:, None, None]
    level.masked_fill_(outside | p["blank"][:, None, None], GRAY)
    off_canvas = (coords < -CANVAS_DEGREES / 2) | (coords >= CANVAS_DEGREES / 2)
    level[:, off_canvas, :] = GRAY
    level[:, :, off_canvas] = GRAY
    return level


def model_input_batches(
    table: pd.DataFrame, model_degrees: float, input_size: int, batch_size: int = 64,
    device: torch.device | str = "cpu",
) -> Iterator[torch.Tensor]:
    """The stimuli of ``table`` as a model sees them: (batch, input_size, input_size) float32 gray levels 0–255.

    Equivalent to placing each 12° canvas in a field of ``model_degrees`` as Brain-Score does (centre crop or
    gray surround, sizes and offsets rounded) and resizing it to ``input_size`` with antialiased bilinear
    filtering, without ever drawing the parts of the canvas the model does not see.
    Rendered on ``device`` (the model's).
    """
    # Brain-Score's screen: a field of round(ratio × 672) px (half to even) holding the canvas at a rounded offset
    # (a gray surround when positive, a centre crop when negative; Python's round is symmetric, so one formula).
    n_px = max(1, round(model_degrees / CANVAS_DEGREES * CANVAS_PX))
    offset = round((n_px - CANVAS_PX) / 2)
    device = torch.device(device)
    exact = torch.float64 if device.type == "cpu" else torch.float32  # MPS has no float64
    pixels = torch.arange(n_px, dtype=torch.float64) - offset  # canvas column (row) of each field pixel
    coords = ((pixels - CANVAS_PX / 2) / PX_PER_DEGREE).to(device, exact)
    for start in range(0, len(table), batch_size):
        params = {k: v.to(device, exact if v.is_floating_point() else v.dtype)
                  for k, v in _params(table.iloc[start : start + batch_size]).items()}
        screens = _render(coords, params, torch.float32)[:, None]
        if n_px != input_size:
            screens = F.interpolate(screens, size=(input_size, input_size), mode="bilinear", antialias=True,
                                    align_corners=False)
        yield screens[:, 0].round_().clamp_(0, 255)


DRAWING_VERSION = 2  # part of every cache file's name: bump it whenever the drawing above changes


def experiment_batches(
    name: str, model_degrees: float, input_size: int, batch_size: int = 64, device: torch.device | str = "cpu",
    cache_dir: Path | None = None, progress: Callable[[str, int], Callable[[int], None]] | None = None,
) -> Iterator[torch.Tensor]:
    """One experiment's stimuli as :func:`model_input_batches` gives them, drawn once into ``cache_dir``.

    The cache holds (n, input_size, input_size) uint8 gray levels per experiment and geometry
    (``<experiment>-v<DRAWING_VERSION>-<degrees>deg-<size>px.npy``, written under a partial name and
    renamed, so a half-written file is never read) with its sha256 beside it (the same name plus ``.json``).
    Later runs verify it and memory-map it instead of drawing; a file that fails (or has no checksum) is
    drawn again after a one-line warning (logger ``brainbench.data.gratings``). Without ``cache_dir`` the
    stimuli are drawn on the fly. Drawing into the cache reports to ``progress`` (a task factory:
    ``(description, total) → advance(n)``), one step per stimulus. Raises DataError when the cache cannot be
    written (disk full, …).
    """
    table = experiment(name).table
    if cache_dir is None:
        yield from model_input_batches(table, model_degrees, input_size, batch_size, device)
        return
    screens = _cached_screens(name, table, model_degrees, input_size, Path(cache_dir), progress)
    for start in range(0, len(table), batch_size):
        yield torch.from_numpy(np.array(screens[start : start + batch_size])).to(device, torch.float32)


def _checksum_file(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _verified(path: Path, shape: tuple[int, ...]) -> tuple[np.ndarray | None, str]:
    """The cached screens memory-mapped if ``path`` matches the checksum beside it and has ``shape``, else
    (None, what is wrong with it)."""
    try:
        record = json.loads(_checksum_file(path).read_text())
        size, digest = int(record["bytes"]), str(record["sha256"])
    except FileNotFoundError:
        return None, "have no checksum beside them (drawn by an older brainbench, or interrupted)"
    except (OSError, ValueError, KeyError, TypeError):
        return None, "have an unreadable checksum file"
    if path.stat().st_size != size or sha256_of(path) != digest:
        return None, "failed their sha256 check"
    try:
        screens = np.load(path, mmap_mode="r")
    except (OSError, ValueError):
        return None, "are not a readable array"
    if screens.shape != shape or screens.dtype != np.uint8:
        return None, f"hold {screens.dtype} of shape {screens.shape} instead of uint8 of shape {shape}"
    return screens, ""


def _cached_screens(name: str, table: pd.DataFrame, model_degrees: float, input_size: int,
                    cache_dir: Path, progress: Callable[[str, int], Callable[[int], None]] | None) -> np.ndarray:
    path = cache_dir / f"{name}-v{DRAWING_VERSION}-{model_degrees:g}deg-{input_size}px.npy"
    checksum = _checksum_file(path)
    shape = (len(table), input_size, input_size)
    if path.exists():
        screens, trouble = _verified(path, shape)
        if screens is not None:
            return screens
        logger.warning("Cached stimuli %s %s; drawing them again.", path, trouble)
    # Nothing is deleted, only replaced whole: another process may be drawing the same file (the same bytes), and
    # one that has just renamed its copy into place must still find it. Its checksum goes first, so that no reader
    # finds a new file without one (a checksum beside an older file fails the check: drawn again, as a bad file).
    what = f"the {name} stimuli ({model_degrees:g} deg, {input_size} px)"
    with cache_files.replacing(path, what) as partial:
        screens = np.lib.format.open_memmap(partial, mode="w+", dtype=np.uint8, shape=shape)
        start = 0
        advance = progress(f"drawing {what}", len(table)) if progress else None
        for batch in model_input_batches(table, model_degrees, input_size):
            screens[start : start + len(batch)] = batch.numpy().astype(np.uint8)
            start += len(batch)
            if advance:
                advance(len(batch))
        screens.flush()
        del screens
        record = {"sha256": sha256_of(partial), "bytes": partial.stat().st_size, "shape": list(shape),
                  "dtype": "uint8", "drawing_version": DRAWING_VERSION}
        with cache_files.replacing(checksum, f"the checksum of {what}") as written:
            written.write_text(json.dumps(record, indent=1) + "\n")
    return np.load(path, mmap_mode="r")
