"""Figures: each is written as a real PNG at its print size with the series it draws, a path it cannot write is
refused in one sentence with nothing left behind, and the normalised layer depth is its closed form."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from brainbench.comparison.estimate import Estimate
from brainbench.comparison.table import BenchmarkRow, Comparison, ModelScore
from brainbench.errors import BrainbenchError
from brainbench.plots import normalised_depth, plot_comparison, plot_layer_profiles
from brainbench.plots.style import DPI, PALETTE, TWO_COLUMNS, wrap

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def pixels(path: Path) -> np.ndarray:
    """The PNG's RGB pixels (0–255), after checking it is a PNG file."""
    import matplotlib.image

    assert path.read_bytes()[:8] == PNG_SIGNATURE
    return np.round(matplotlib.image.imread(path)[..., :3] * 255).astype(int)


def has_colour(image: np.ndarray, hex_colour: str) -> bool:
    """Whether some pixel is ``hex_colour`` (± 2 per channel: PNG stores 8 bits, antialiasing blends edges only)."""
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return bool((np.abs(image - rgb).max(axis=-1) <= 2).any())


def test_normalised_depth_is_i_over_n_minus_1() -> None:
    # closed form: numpy's linspace(0, 1, n) is i / (n − 1); one layer is the first (0)
    for n in (2, 3, 7, 50):
        assert normalised_depth(n) == pytest.approx(np.linspace(0, 1, n).tolist(), abs=1e-12)
    assert normalised_depth(1) == [0.0]


def test_wrapped_labels_keep_every_character_on_short_lines() -> None:
    for text in ("Kriegeskorte2008.IT-human-rsa", "timm:resnet18 (random init)", "x" * 40):
        lines = wrap(text, 16).split("\n")
        assert len(lines) > 1 and all(len(line.rstrip(".-_:/")) <= 16 for line in lines)
        assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def comparison() -> Comparison:
    def score(ceiled: float, error: float | None) -> ModelScore:
        return ModelScore(ceiled=ceiled, error=error, raw=ceiled * 0.8, ceiling=0.8, layer="l", benchmark_version=1,
                          seed=0, uid="u")

    def estimate(difference: float, p: float) -> Estimate:
        return Estimate(difference, difference - 0.05, difference + 0.05, p, "paired bootstrap", "units", 2000)

    rows = (
        BenchmarkRow("Kiani2007.IT-rsa", 2, "IT", "IT", (score(0.5, 0.02), score(0.3, 0.03), score(0.49, None)),
                     (None, None, None), (None, estimate(-0.2, 0.001), estimate(-0.01, 0.6)), (None, 0.002, 1.0),
                     (None, True, False), (None, None, None)),
        BenchmarkRow("Cowley2023.V4-pls", 2, "V4", "V4", (score(0.4, 0.01), None, score(0.41, 0.01)),
                     (None, "brainbench score b -b Cowley2023.V4-pls", None), (None, None, estimate(0.01, 0.4)),
                     (None, None, 0.4), (None, None, False), (None, None, None)),
    )
    return Comparison(models=("efficientnet_lite0", "timm:resnet18 (random-init)", "b"), rows=rows, summaries=())


def test_comparison_figure_draws_each_model_in_its_colour(tmp_path: Path) -> None:
    image = pixels(plot_comparison(comparison(), tmp_path / "compare.png"))
    assert image.shape[:2] == (round(4.6 * DPI), round((1.2 + 2 * 1.3) * DPI))  # 1.3 in per benchmark + 1.2
    assert [has_colour(image, PALETTE[i]) for i in range(4)] == [True, True, True, False]


def test_layer_profiles_figure_draws_each_model_in_its_colour(tmp_path: Path) -> None:
    def outcome(scores: list[float], committed: int) -> SimpleNamespace:
        profile = {f"layer{i}": {"raw": s * 0.8, "ceiled": s} for i, s in enumerate(scores)}
        return SimpleNamespace(profile=profile, layer=f"layer{committed}")

    benchmarks = [SimpleNamespace(id="Kiani2007.IT-rsa"), SimpleNamespace(id="Cowley2023.V4-pls")]
    profiles = {"tinycnn": [(outcome([0.1, 0.3, 0.2], 1), benchmarks[0]), (outcome([0.2, 0.1, 0.0], 0), benchmarks[1])],
                "resnet18": [(outcome([0.1, 0.2, 0.25, 0.3, 0.2], 3), benchmarks[0])]}
    image = pixels(plot_layer_profiles(profiles, tmp_path / "layers.png"))
    assert image.shape[1] == round(TWO_COLUMNS * DPI)
    assert [has_colour(image, PALETTE[i]) for i in range(3)] == [True, True, False]


@pytest.mark.parametrize(("name", "says"), [
    ("missing/figure.png", "the folder {tmp}/missing does not exist"),
    ("folder", "it is a folder; give a file name"),
    ("figure.docx", "'.docx' is not a figure format; use one of .eps"),
])
def test_a_figure_that_cannot_be_written_is_one_sentence_and_leaves_nothing(tmp_path: Path, name: str,
                                                                            says: str) -> None:
    (tmp_path / "folder").mkdir()
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(BrainbenchError) as caught:
        plot_comparison(comparison(), tmp_path / name)
    message = str(caught.value)
    assert message.startswith("Cannot write") and says.format(tmp=tmp_path) in message and "\n" not in message
    assert sorted(tmp_path.rglob("*")) == before


def test_a_figure_gets_a_new_files_mode_under_the_umask(tmp_path: Path) -> None:
    """Written beside its target first (a private 0600 file), the figure still gets what open() gives a new file."""
    import os

    mask = os.umask(0o027)
    try:
        out = plot_comparison(comparison(), tmp_path / "shared.png")
    finally:
        os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o640  # 0o666 less the umask 0o027


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> list:
    """The figures handed to style.save (kept open, not written), to read what was drawn."""
    figures: list = []
    monkeypatch.setattr("brainbench.plots.style.save", lambda fig, path: figures.append(fig) or Path(path))
    return figures


def test_comparison_marks_each_significant_difference_and_each_missing_score(drawn: list, tmp_path: Path) -> None:
    plot_comparison(comparison(), tmp_path / "c.png")
    texts = [text.get_text() for ax in drawn[0].axes for text in ax.texts]
    # one model's difference is significant (Kiani2007, model 1) and one score is missing (Cowley2023, model 1)
    assert sorted(texts) == ["*", "n/a"]


MARQUES_V1 = ("grating_summation_field", "peak_spatial_frequency", "preferred_orientation",
              "spatial_frequency_bandwidth", "spatial_frequency_selective", "strongly_suppressed", "surround_diameter",
              "surround_grating_summation_field_ratio", "surround_suppression_index")


def many_benchmarks() -> Comparison:
    """Two models on the nine Marques2020 V1 benchmarks and two IT benchmarks, as `brainbench compare` builds it."""
    ids = [(f"Marques2020.V1-{name}", "V1") for name in MARQUES_V1] + [("Kiani2007.IT-rsa", "IT"),
                                                                       ("MajajHong2015.IT-pls", "IT")]
    rows = []
    for i, (benchmark, region) in enumerate(ids):
        first, other = 0.6 + 0.03 * (i % 5), 0.5 + 0.05 * (i % 4)
        scores = tuple(ModelScore(ceiled=c, error=0.01, raw=c * 0.9, ceiling=0.9, layer="blocks.3.2",
                                  benchmark_version=2, seed=0, uid="u") for c in (first, other))
        d = other - first
        rows.append(BenchmarkRow(benchmark, 2, region, region, scores, (None, None),
                                 (None, Estimate(d, d - 0.06, d + 0.06, 0.01, "paired bootstrap", "units", 2000)),
                                 (None, 0.02), (None, abs(d) > 0.06), (None, None)))
    return Comparison(models=("efficientnet_lite0", "timm:resnet18 (random-init)"), rows=tuple(rows), summaries=())


def test_comparison_tick_labels_and_titles_do_not_overlap_with_nine_benchmarks_a_region(drawn: list,
                                                                                       tmp_path: Path) -> None:
    plot_comparison(many_benchmarks(), tmp_path / "c.png")
    fig = drawn[0]
    fig.canvas.draw()
    labels = [label for ax in fig.axes for label in ax.get_xticklabels() if label.get_visible() and label.get_text()]
    titles = [ax.title for ax in fig.axes if ax.get_title()]
    assert len(labels) == 11 and len(titles) == 2
    for texts in (labels, titles):
        boxes = [text.get_window_extent() for text in texts]  # as rendered, in display pixels
        touching = [(texts[i].get_text(), texts[j].get_text()) for i in range(len(boxes))
                    for j in range(i + 1, len(boxes)) if boxes[i].overlaps(boxes[j])]
        assert touching == []
    assert fig.get_figwidth() <= TWO_COLUMNS
    # nothing is lost: the prefix all V1 benchmarks share is said once, in V1's title; with it each (unwrapped) tick
    # label spells its benchmark's id
    assert [" ".join(title.get_text().split()) for title in titles] == ["V1 — Marques2020.V1-", "IT"]
    prefixes = ["Marques2020.V1-"] * 9 + [""] * 2
    spelled = [prefix + label.get_text().replace("\n", "") for prefix, label in zip(prefixes, labels, strict=True)]
    assert spelled == [row.benchmark for row in many_benchmarks().rows]


def test_layer_profiles_mark_each_models_committed_layer(drawn: list, tmp_path: Path) -> None:
    def outcome(scores: list[float], committed: str) -> SimpleNamespace:
        return SimpleNamespace(profile={f"l{i}": {"ceiled": s} for i, s in enumerate(scores)}, layer=committed)

    spec = SimpleNamespace(id="Kiani2007.IT-rsa")
    plot_layer_profiles({"a": [(outcome([0.1, 0.3, 0.2], "l1"), spec)],
                         "b": [(outcome([0.1, 0.2, 0.25, 0.3, 0.2], "l3"), spec)]}, tmp_path / "l.png")
    (ax,) = [ax for ax in drawn[0].axes if ax.get_visible()]
    committed = [line for line in ax.lines if line.get_markersize() == 8]
    # each at its layer's normalised depth: 1 / 2 for layer 1 of 3, 3 / 4 for layer 3 of 5 (closed form)
    assert [line.get_xdata()[0] for line in committed] == pytest.approx([0.5, 0.75], abs=1e-12)
    assert [line.get_ydata()[0] for line in committed] == pytest.approx([0.3, 0.3], abs=1e-12)
