"""The HTML leaderboard without a browser: the page parses, holds every model entry, benchmark and record, loads
nothing (no URL in src/href, a policy allowing only itself), shows user strings as text, and is written whole."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import struct
import zlib
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest
from board_page_records import BENCHMARKS, HOSTILE_LAYER, HOSTILE_MODEL, SCORES, board_records
from click.testing import Result

from brainbench.comparison.estimate import Estimate
from brainbench.comparison.table import BenchmarkRow, Comparison, ModelScore, RegionSummary
from brainbench.errors import BrainbenchError
from brainbench.leaderboard import Leaderboard
from brainbench.leaderboard.html import Figure, render_board, write_board
from brainbench.leaderboard.ranking import latest_of, rank, rank_region
from brainbench.leaderboard.record import REGIONS


class Page(HTMLParser):
    """What a browser would build from the page: every element with its attributes, the text, the ranking's rows
    (each a list of (cell attributes, cell text)) and the scripts' text."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.scripts: list[str] = []
        self.rows: list[list[tuple[dict[str, str | None], str]]] = []
        self._in_ranking_body = False
        self._in_script = False
        self._cell: tuple[dict[str, str | None], list[str]] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.elements.append((tag, attributes))
        if tag == "table" and attributes.get("id") == "ranking-table":
            self._in_ranking_body = True
        elif tag == "tr" and self._in_ranking_body:
            self.rows.append([])
        elif tag == "td" and self._in_ranking_body:
            self._cell = (attributes, [])
        elif tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_ranking_body = False
        elif tag == "td" and self._cell is not None:
            self.rows[-1].append((self._cell[0], "".join(self._cell[1])))
            self._cell = None
        elif tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell[1].append(data)

    @property
    def ranking_rows(self) -> list[list[tuple[dict[str, str | None], str]]]:
        return [row for row in self.rows if row]  # the header row has th cells only


def board() -> tuple[list, list, str]:
    records = board_records()
    latest = latest_of(records)
    ranking = rank(latest, records)
    return ranking, latest, render_board(ranking, latest, benchmarks=True, source="/tmp/board.sqlite")


def tiny_png() -> bytes:
    """A valid 1×1 grey PNG, made by hand from the PNG specification (signature, IHDR, IDAT, IEND)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1×1, 8-bit greyscale
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x80"))
            + chunk(b"IEND", b""))


def test_the_ranking_table_holds_every_entry_in_rank_order_with_its_scores_and_ties() -> None:
    ranking, _, text = board()
    page = Page(text)
    rows = page.ranking_rows
    assert [cells[1][1] for cells in rows] == [row.label for row in ranking]
    assert [cells[0][1] for cells in rows] == ["1", "=2", "=2", "4", "5", "6"]  # alexnet and vgg16 tie
    by_label = {cells[1][1]: cells for cells in rows}
    resnet = by_label["resnet50"]
    # Columns: #, model, the five regions, average, then the benchmarks sorted by id.
    v1, average = resnet[2], resnet[2 + len(REGIONS)]
    # Hand-computed from SCORES: V1 is one benchmark, 0.62; the average is (0.62 + 0.41 + 0.58 + 0.55 + 0.48) / 5 (the
    # unceiled Kiani2007 is not averaged). 1e-12 allows the rounding of a sum of five doubles.
    assert float(v1[0]["data-value"] or "nan") == pytest.approx(0.62, abs=1e-12)
    assert float(average[0]["data-value"] or "nan") == pytest.approx(0.528, abs=1e-12)
    assert v1[1].startswith("0.620±")
    # tinycnn has no V2 score: the cell is missing (empty sort value), not 0.
    assert by_label["tinycnn"][3][0]["data-value"] == "" and by_label["tinycnn"][3][1] == "–"
    # The sorting script needs these: numbers marked as numbers, the ranking's column marked as sorted.
    headers = [attrs for tag, attrs in page.elements if tag == "th" and "data-type" in attrs]
    assert [h["data-type"] for h in headers[:3]] == ["number", "text", "number"]
    assert headers[0].get("aria-sort") == "ascending"


def test_every_model_benchmark_and_record_is_on_the_page() -> None:
    ranking, latest, text = board()
    shown = "".join(Page(text).text)
    for model in SCORES:
        assert model in shown
    for benchmark in BENCHMARKS:
        assert benchmark in shown
    for record in latest:  # each record's provenance: uid, date, weights digest
        assert record.uid in shown and record.finished_at in shown and record.weights_digest in shown
    assert len(latest) == sum(len(row.scores) for row in ranking)


def test_the_page_loads_nothing_and_allows_only_its_own_script() -> None:
    _, _, text = board()
    page = Page(text)
    for _, attrs in page.elements:
        for name in ("src", "href", "action", "data", "poster"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith(("#", "data:")), f"{name}={value!r} would be fetched"
    assert "http://" not in text and "https://" not in text
    policy = next(attrs["content"] for tag, attrs in page.elements
                  if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy")
    assert policy is not None and "default-src 'none'" in policy and "img-src data:" in policy
    assert len(page.scripts) == 1
    digest = base64.b64encode(hashlib.sha256(page.scripts[0].encode("utf-8")).digest()).decode("ascii")
    assert f"script-src 'sha256-{digest}'" in policy  # the only script that may run is the page's own
    assert not [tag for tag, _ in page.elements if tag == "link"]  # no stylesheet or font from anywhere


def test_user_strings_are_shown_as_text_never_as_markup() -> None:
    _, _, text = board()
    page = Page(text)
    shown = "".join(page.text)
    assert HOSTILE_MODEL in shown and HOSTILE_LAYER in shown  # shown verbatim...
    assert [tag for tag, _ in page.elements].count("script") == 1  # ...and only the page's own script is one
    assert not [tag for tag, _ in page.elements if tag == "img"]  # the layer name made no image
    assert not [attrs for _, attrs in page.elements if any(name.startswith("on") for name in attrs)]


def test_figures_are_embedded_as_data_uris() -> None:
    ranking, latest, _ = board()
    png = tiny_png()
    page = Page(render_board(ranking, latest, figures=[Figure(png, "The ranking <as a figure>")]))
    images = [attrs for tag, attrs in page.elements if tag == "img"]
    assert len(images) == 1 and images[0]["alt"] == "The ranking <as a figure>"
    prefix = "data:image/png;base64,"
    assert (images[0]["src"] or "").startswith(prefix)
    assert base64.b64decode((images[0]["src"] or "")[len(prefix):]) == png
    with pytest.raises(ValueError, match="not a PNG"):
        render_board(ranking, latest, figures=[Figure(b"GIF89a", "not a png")])


def test_a_ranking_by_region_shows_the_region_and_its_benchmarks() -> None:
    records = board_records()
    latest = latest_of(records)
    rows = rank_region(latest, "IT", records)
    page = Page(render_board(rows, latest))
    headers = [text for text in page.text if text in ("IT", "Kiani2007.", "IT-rsa", "Majaj2015.", "IT-pls")]
    assert headers[:5] == ["IT", "Kiani2007.", "IT-rsa", "Majaj2015.", "IT-pls"]  # broken after the '.'
    assert [cells[1][1] for cells in page.ranking_rows] == [row.label for row in rows]


def test_the_page_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    ranking, latest, _ = board()
    target = write_board(ranking, latest, tmp_path / "board.html")
    assert Page(target.read_text(encoding="utf-8")).ranking_rows
    assert [p.name for p in tmp_path.iterdir()] == ["board.html"]  # no temporary file left

    with pytest.raises(BrainbenchError, match=r"^Cannot write the leaderboard page .*missing.*: no such file"):
        write_board(ranking, latest, tmp_path / "missing" / "board.html")
    (tmp_path / "folder.html").mkdir()
    with pytest.raises(BrainbenchError, match=r"^Cannot write the leaderboard page .*folder\.html: is a directory\.$"):
        write_board(ranking, latest, tmp_path / "folder.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["board.html", "folder.html"]  # the partial file removed
    assert not list((tmp_path / "folder.html").iterdir())


def test_a_read_only_folder_gets_one_sentence(tmp_path: Path, read_only: Callable) -> None:
    ranking, latest, _ = board()
    folder = tmp_path / "site"
    folder.mkdir()
    with read_only(folder), pytest.raises(BrainbenchError, match=r"^Cannot write the leaderboard page .*\.$"):
        write_board(ranking, latest, folder / "board.html")
    assert not list(folder.iterdir())


def test_leaderboard_html_writes_what_the_table_shows(cli: Callable[..., Result], tmp_path: Path) -> None:
    board_file = tmp_path / "scores.sqlite"
    Leaderboard(board_file).append(board_records())
    result = cli("leaderboard", "--leaderboard", board_file, "--html", tmp_path / "board.html", "-m", "resnet50*")
    assert result.exit_code == 0, result.output
    assert str(tmp_path / "board.html") in result.output
    page = Page((tmp_path / "board.html").read_text(encoding="utf-8"))
    assert [cells[1][1] for cells in page.ranking_rows] == ["resnet50", "resnet50 (random-init)"]
    assert [cells[0][1] for cells in page.ranking_rows] == ["1", "6"]  # ranks among all entries, as the table's
    assert any("Models matching 'resnet50*'" in text for text in page.text)

    failed = cli("leaderboard", "--leaderboard", board_file, "--html", tmp_path / "nowhere" / "board.html")
    assert failed.exit_code == 1
    assert failed.output.startswith("error: Cannot write the leaderboard page") and failed.output.count("\n") == 1


def test_a_benchmark_averaged_into_no_column_is_marked_and_the_mark_explained() -> None:
    _, _, text = board()
    page = Page(text)
    resnet = next(cells for cells in page.ranking_rows if cells[1][1] == "resnet50")
    kiani = resnet[2 + len(REGIONS) + 1 + sorted(BENCHMARKS).index("Kiani2007.IT-rsa")]
    assert kiani[1].startswith("0.210†")  # no ceiling: shown, not averaged
    majaj = resnet[2 + len(REGIONS) + 1 + sorted(BENCHMARKS).index("Majaj2015.IT-pls")]
    assert majaj[1].startswith("0.550±")
    assert any(t.startswith("† shown, not averaged into a column") for t in page.text)


def test_a_comparison_is_shown_per_model_with_its_intervals_p_values_and_what_is_missing() -> None:
    # A comparison made by hand: the page shows what it holds, formatted, and nothing it does not.
    first, other = "resnet50", HOSTILE_MODEL
    score = ModelScore(ceiled=0.55, error=0.02, raw=0.44, ceiling=0.8, layer="l4", benchmark_version=2, seed=0,
                       uid="u1")
    better = ModelScore(ceiled=0.65, error=0.02, raw=0.52, ceiling=0.8, layer="l4", benchmark_version=2, seed=0,
                        uid="u2")
    estimate = Estimate(difference=0.1, ci_low=0.05, ci_high=0.15, p_value=0.004, method="paired bootstrap <units>",
                        level="units", n_resamples=2000)
    rows = (
        BenchmarkRow("Majaj2015.IT-pls", 2, "IT", "IT", (score, better), (None, None), (None, estimate),
                     (None, 0.012), (None, True), (None, None)),
        BenchmarkRow("Majaj2015.V4-pls", 2, "V4", "V4", (score, None), (None, "brainbench score X -b Majaj2015.V4-pls"),
                     (None, None), (None, None), (None, None), (None, None)),
    )
    summary = RegionSummary("IT", (0.55, 0.65), (("Majaj2015.IT-pls",), ("Majaj2015.IT-pls",)), (None, estimate),
                            (0.55, 0.55))
    comparison = Comparison(models=(first, other), rows=rows, summaries=(summary,), notes=("A note <b>.",))
    ranking, latest, _ = board()
    page = Page(render_board(ranking, latest, comparison=comparison))
    shown = page.text
    assert f"{other} − {first}" in shown  # the table's caption, as text
    assert "+0.100 [+0.050, +0.150]" in shown and "0.012 *" in shown  # Holm-adjusted p, significant
    assert "0.550 ± 0.020" in shown and "0.650 ± 0.020" in shown
    assert "not scored: brainbench score X -b Majaj2015.V4-pls" in shown  # a missing score says how to get it
    assert "0.004 (uncorrected)" in shown  # the region summary's p is not corrected, and says so
    assert "A note <b>." in shown and "Majaj2015.IT-pls: paired bootstrap <units>" in shown
    assert not [tag for tag, _ in page.elements if tag == "b"]


def test_leaderboard_html_compare_puts_every_shown_entry_against_the_first(cli: Callable[..., Result],
                                                                          tmp_path: Path) -> None:
    board_file = tmp_path / "scores.sqlite"
    Leaderboard(board_file).append(board_records())
    result = cli("leaderboard", "--leaderboard", board_file, "--html", tmp_path / "board.html", "--compare",
                 "-m", "resnet50*", "-m", "tinycnn")
    assert result.exit_code == 0, result.output
    page = Page((tmp_path / "board.html").read_text(encoding="utf-8"))
    assert "Compared with resnet50" in page.text
    assert "tinycnn − resnet50" in page.text and "resnet50 (random-init) − resnet50" in page.text
    assert len([attrs for tag, attrs in page.elements if tag == "img"]) == 2  # the ranking's and the comparison's

    alone = cli("leaderboard", "--leaderboard", board_file, "--compare")
    assert alone.exit_code == 2 and "give --html too" in alone.output


def test_the_page_is_readable_as_any_new_file_is(tmp_path: Path) -> None:
    # A page is for sharing: its mode is that of a new file under the process's umask (0o666 & ~umask), not the
    # private 0o600 of the temporary file it was written through.
    ranking, latest, _ = board()
    previous = os.umask(0o022)
    try:
        page = write_board(ranking, latest, tmp_path / "board.html")
        assert stat.S_IMODE(page.stat().st_mode) == 0o644
        os.umask(0o077)
        private = write_board(ranking, latest, tmp_path / "private.html")
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
    finally:
        os.umask(previous)
