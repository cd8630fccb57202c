"""What every brainbench figure shares: a colour-blind-safe palette, print sizes, wrapped labels, an atomic save."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from brainbench.data.cache_files import new_file_mode
from brainbench.errors import BrainbenchError

if TYPE_CHECKING:
    from matplotlib.figure import Figure

#: Okabe & Ito (2008) "Color Universal Design": told apart with any of the common colour-vision deficiencies.
#: Black comes last: it is also the colour of reference lines and text.
PALETTE: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
#: Markers cycled with the palette, so that a 9th series differs from the 1st and grey-scale prints stay readable.
MARKERS: tuple[str, ...] = ("o", "s", "D", "^", "v", "P", "X", "h")

#: The formats a figure may be written in (matplotlib's Agg canvas writes them all), by file suffix.
FORMATS: tuple[str, ...] = ("eps", "jpeg", "jpg", "pdf", "png", "ps", "svg", "tif", "tiff", "webp")
#: The standard normal's 97.5th percentile: a score ± Z95 · its standard error is its 95 % (normal) interval.
Z95 = 1.959963984540054
DPI = 300  # print resolution: text of 7 pt is still sharp
#: Widths in inches of a journal's one and two columns (e.g. Nature, PLOS, eLife: 3.3–3.5 and 6.9–7.2).
ONE_COLUMN, TWO_COLUMNS = 3.5, 7.0
#: Font sizes in points at the printed size (journals ask for 5–9 pt in figures).
RC = {
    "font.size": 8, "axes.titlesize": 9, "axes.labelsize": 8, "xtick.labelsize": 7, "ytick.labelsize": 7,
    "legend.fontsize": 7, "legend.title_fontsize": 7, "axes.spines.top": False, "axes.spines.right": False,
    "savefig.dpi": DPI, "figure.dpi": 100,
}


def colour(i: int) -> str:
    """The ``i``-th series' colour (cycled)."""
    return PALETTE[i % len(PALETTE)]


def marker(i: int) -> str:
    """The ``i``-th series' marker (cycled, shifted by one each time the palette comes round, so that the 9th series
    has the 1st colour and the 2nd marker)."""
    return MARKERS[(i + i // len(PALETTE)) % len(MARKERS)]


def wrap(text: str, width: int = 16) -> str:
    """``text`` on lines of at most ``width`` characters, broken after '.', '-', '_', ':', '/' or at spaces where
    possible (benchmark ids and model names are long words), else inside a word."""
    pieces = [p for p in re.findall(r"[^.\-_:/ ]*[.\-_:/ ]?", text) if p]
    lines = [""]
    for piece in pieces:
        if lines[-1] and len(lines[-1]) + len(piece.rstrip()) > width:
            lines.append("")
        lines[-1] += piece
        while len(lines[-1].rstrip(".-_:/ ")) > width:  # a break mark may stand one past the width
            lines[-1:] = [lines[-1][:width], lines[-1][width:]]
    return "\n".join(line.strip() for line in lines if line.strip())


def benchmark_label(benchmark: str, width: int = 16) -> str:
    """A benchmark id as a tick label: its dataset on the first line, the rest (region-metric) wrapped under it."""
    dataset, dot, rest = benchmark.partition(".")
    return wrap(dataset, width) + (f".\n{wrap(rest, width)}" if dot else "")


def spread(n: int, span: float) -> list[float]:
    """``n`` offsets spread evenly over ``span`` around 0 (so that the dots of one group do not cover each other)."""
    if n == 1:
        return [0.0]
    return [-span / 2 + span * i / (n - 1) for i in range(n)]


@contextlib.contextmanager
def pyplot() -> Iterator[object]:
    """matplotlib.pyplot on the off-screen Agg canvas, with :data:`RC` in force (imported here: light commands
    never import matplotlib)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plt.rc_context(RC):
        yield plt


def check_path(path: str | Path) -> Path:
    """``path`` as a Path when a figure can be written there (a known format, in a folder that exists and may be
    written to); else BrainbenchError in one sentence. Commands call it before their work, :func:`save` again."""
    out = Path(path)
    form = out.suffix[1:].lower() or "png"
    if form not in FORMATS:
        raise BrainbenchError(f"Cannot write a figure to {out}: '.{form}' is not a figure format; use one of "
                              f"{', '.join('.' + s for s in FORMATS)}.")
    if out.is_dir():
        raise BrainbenchError(f"Cannot write the figure to {out}: it is a folder; give a file name.")
    folder = out.parent
    if not folder.is_dir():
        raise BrainbenchError(f"Cannot write the figure to {out}: the folder {folder} does not exist.")
    if not os.access(folder, os.W_OK):
        raise BrainbenchError(f"Cannot write the figure to {out}: the folder {folder} is not writable.")
    return out


def save(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` to ``path`` (format from the suffix; none: PNG) at :data:`DPI`, whole or not at all, and close it.

    BrainbenchError in one sentence when the format is unknown or the file cannot be written.
    """
    import matplotlib.pyplot as plt

    try:
        out = check_path(path)
        try:  # beside the target, then renamed: an interrupted or failed write leaves no half-written figure
            handle, temporary = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
        except OSError as exc:
            raise BrainbenchError(f"Cannot write the figure to {out} ({exc.strerror or exc}); choose a folder that "
                                  "exists and that you may write to.") from exc
        os.close(handle)
        try:
            fig.savefig(temporary, format=out.suffix[1:].lower() or "png", dpi=DPI)
            os.chmod(temporary, new_file_mode())  # the temporary file is private (0600); a figure is for sharing
            os.replace(temporary, out)
        except OSError as exc:
            raise BrainbenchError(f"Cannot write the figure to {out} ({exc.strerror or exc}).") from exc
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
    finally:
        plt.close(fig)
    return out
