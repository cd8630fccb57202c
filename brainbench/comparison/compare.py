"""``brainbench.compare``: models on the leaderboard compared to the first, benchmark by benchmark, with paired tests.

Per benchmark the newest record of its newest version is compared. Where both records carry per-unit results read by
the same test (``details["unit_test"]``), that test resamples them; otherwise, or when they do not line up, the
fold-level test (:mod:`brainbench.comparison.folds`) is used and the row's note says why. P-values are corrected
with Holm's method across the benchmarks compared, per other model; region and average summaries are stated
without correction.
"""

from __future__ import annotations

import difflib
import fnmatch
import math
from collections.abc import Sequence
from pathlib import Path

from brainbench.comparison.estimate import Estimate, unit_test
from brainbench.comparison.folds import fold_test
from brainbench.comparison.table import ALPHA, AVERAGE, BenchmarkRow, Comparison, ModelScore, RegionSummary, holm
from brainbench.errors import BrainbenchError
from brainbench.leaderboard.identity import ASSUMED_VISUAL_DEGREES, ModelEntry, labels
from brainbench.leaderboard.ranking import column_of, latest_of
from brainbench.leaderboard.record import REGIONS, ScoreRecord
from brainbench.leaderboard.store import Leaderboard

_Z95 = 1.959963984540054  # the standard normal's 97.5th percentile


def compare(models: Sequence[str], benchmarks: Sequence[str] = (), region: str | None = None,
            leaderboard: Leaderboard | str | Path | None = None, n_resamples: int = 2000, seed: int = 0) -> Comparison:
    """Compare ``models`` (labels or ids as the leaderboard shows them; the first is the reference) on their scored
    benchmarks, optionally only those matching the wildcard ``benchmarks`` patterns and/or of ``region`` (a column
    such as IT, or a free region such as EVC).

    n_resamples, seed: the per-unit tests' paired resamples (the same for every model). BrainbenchError (one
    sentence) for fewer than two models, a name the leaderboard does not know or that names several entries, and
    when no benchmark is scored for the first model and another.
    """
    if len(models) < 2:
        raise BrainbenchError("Compare needs at least two models: the first, and one or more to compare with it.")
    if n_resamples < 1:
        raise BrainbenchError(f"The number of resamples must be at least 1 (got {n_resamples}).")
    board = leaderboard if isinstance(leaderboard, Leaderboard) else Leaderboard(leaderboard)
    latest = latest_of(board.records())
    names = labels(list(dict.fromkeys(ModelEntry.of(r) for r in latest)))
    entries = [_entry_named(name, names, board.path) for name in models]
    for i, entry in enumerate(entries):
        if entry in entries[:i]:
            raise BrainbenchError(f"'{models[i]}' names the same leaderboard entry as '{models[entries.index(entry)]}'"
                                  f" ({names[entry]}); compare two different models.")
    chosen = {r.uid for r in latest if ModelEntry.of(r) in entries}
    with_units = {r.uid: r for model in dict.fromkeys(e.model for e in entries)
                  for r in board.records(model=model, with_units=True) if r.uid in chosen}
    by_entry: list[dict[str, ScoreRecord]] = [{} for _ in entries]
    for r in latest:
        entry = ModelEntry.of(r)
        if entry in entries and _selected(r, benchmarks, region):
            by_entry[entries.index(entry)][r.benchmark] = with_units.get(r.uid, r)
    _check_something_to_compare([names[e] for e in entries], by_entry, benchmarks, region, board.path)
    shown = tuple(names[e] for e in entries)
    rows = _rows(entries, by_entry, n_resamples, seed)
    notes = (
        f"Differences are each model's ceiled score minus {shown[0]}'s, in ceiled-score units, with 95 % intervals.",
        f"Significant (p ≤ {ALPHA}) after Holm's correction (Holm 1979) across the benchmarks compared, per model.",
        "Region and average summaries: the mean of the per-benchmark differences over the benchmarks both models "
        "have; their intervals combine the benchmarks' standard errors as if independent (normal approximation), "
        "and their p-values are not corrected.",
    )
    return Comparison(models=shown, rows=tuple(rows), summaries=_summaries(rows, len(entries)), notes=notes)


def _entry_named(name: str, names: dict[ModelEntry, str], path: Path) -> ModelEntry:
    """The entry labelled ``name``, else the only entry of model id ``name`` (or 'id (random-init)'); one sentence
    otherwise."""
    exact = [entry for entry, label in names.items() if label == name]
    if exact:
        return exact[0]
    of_id = [entry for entry in names if name in (entry.model, entry.base_label)]
    if len(of_id) == 1:
        return of_id[0]
    if of_id:
        choices = ", ".join(f"'{names[e]}'" for e in sorted(of_id, key=names.__getitem__))
        raise BrainbenchError(f"'{name}' names {len(of_id)} leaderboard entries ({choices}); give one of these "
                              "labels, quoted.")
    if not names:
        raise BrainbenchError(f"No scores yet in {path}; run `brainbench score MODEL -b BENCHMARK` first.")
    close = difflib.get_close_matches(name, sorted(names.values()), n=3)
    known = close or sorted(names.values())[:10]
    raise BrainbenchError(f"No model '{name}' on the leaderboard {path}; "
                          f"{'did you mean' if close else 'known models include'} {', '.join(map(repr, known))}?")


def _selected(record: ScoreRecord, patterns: Sequence[str], region: str | None) -> bool:
    if patterns and not any(fnmatch.fnmatchcase(record.benchmark, p) for p in patterns):
        return False
    if region is None:
        return True
    wanted = region.casefold()
    return record.region.casefold() == wanted or (column_of(record) or "").casefold() == wanted


def _check_something_to_compare(shown: list[str], by_entry: list[dict[str, ScoreRecord]], patterns: Sequence[str],
                                region: str | None, path: Path) -> None:
    if not any(by_entry[0].keys() & other.keys() for other in by_entry[1:]):
        among = " matching " + " or ".join(patterns) if patterns else ""
        among += f" of region {region}" if region else ""
        raise BrainbenchError(f"{shown[0]} and {' or '.join(shown[1:])} have no scored benchmark{among} in common "
                              f"on {path}; score them on the same benchmarks first.")


def _rows(entries: list[ModelEntry], by_entry: list[dict[str, ScoreRecord]], n_resamples: int,
          seed: int) -> list[BenchmarkRow]:
    benchmarks = sorted({b for records in by_entry for b in records})
    drafts = []
    for benchmark in benchmarks:
        records = [records.get(benchmark) for records in by_entry]
        version = max(r.benchmark_version for r in records if r is not None)
        some = next(r for r in records if r is not None and r.benchmark_version == version)
        notes: list[str | None] = [None] * len(entries)
        for i, r in enumerate(records):
            if r is not None and r.benchmark_version < version:
                notes[i] = (f"only version {r.benchmark_version} of {benchmark} is scored (compared: version "
                            f"{version})")
                records[i] = None
        estimates: list[Estimate | None] = [None] * len(entries)
        for i in range(1, len(entries)):
            if records[0] is not None and records[i] is not None:
                estimates[i], notes[i] = _estimate(records[0], records[i], n_resamples, seed)
        drafts.append((benchmark, version, some, records, estimates, notes))
    adjusted = [holm([None if d[4][i] is None else d[4][i].p_value for d in drafts]) for i in range(len(entries))]
    rows = []
    for k, (benchmark, version, some, records, estimates, notes) in enumerate(drafts):
        p_adjusted = tuple(adjusted[i][k] for i in range(len(entries)))
        rows.append(BenchmarkRow(
            benchmark=benchmark, version=version, region=some.region, column=column_of(some),
            scores=tuple(None if r is None else _score(r) for r in records),
            missing_commands=tuple(_score_command(entries[i], benchmark, by_entry[i]) if r is None else None
                                   for i, r in enumerate(records)),
            estimates=tuple(estimates), p_adjusted=p_adjusted,
            significant=tuple(None if p is None else p <= ALPHA for p in p_adjusted), notes=tuple(notes),
        ))
    rows.sort(key=_row_order)
    return rows


def _row_order(row: BenchmarkRow) -> tuple[int, str, str]:
    place = REGIONS.index(row.column) if row.column in REGIONS else len(REGIONS)
    return place, row.region if row.column is None else "", row.benchmark


def _estimate(first: ScoreRecord, other: ScoreRecord, n_resamples: int, seed: int) -> tuple[Estimate | None,
                                                                                            str | None]:
    """The per-unit estimate where both records have units for the same test, else the fold-level one with the
    reason; (None, why) when neither can be made."""
    name = first.details.get("unit_test")
    if first.units and other.units and name and name == other.details.get("unit_test"):
        try:
            return unit_test(str(name))(first, other, n_resamples, seed), None
        except BrainbenchError as exc:
            why = f"{_sentence(exc)} Compared at fold level instead."
    else:
        without = [f"'{r.model_label}'" for r in (first, other) if not r.units or not r.details.get("unit_test")]
        why = (f"No per-unit results are stored for {' and '.join(without)} (a record written before they were "
               "kept, or a benchmark that keeps none)."
               if without else f"The records' per-unit results are of different kinds ({name} vs "
               f"{other.details.get('unit_test')}).")
    try:
        return fold_test(first, other), why
    except BrainbenchError as exc:
        return None, f"{why} {_sentence(exc)}"


def _sentence(exc: Exception) -> str:
    text = str(exc).strip()
    return text if text.endswith((".", "?", "!")) else text + "."


def _score(record: ScoreRecord) -> ModelScore:
    return ModelScore(ceiled=record.ceiled, error=record.error, raw=record.raw, ceiling=record.ceiling,
                      layer=record.layer, benchmark_version=record.benchmark_version, seed=record.seed, uid=record.uid)


def _score_command(entry: ModelEntry, benchmark: str, records: dict[str, ScoreRecord]) -> str:
    """The `brainbench score` command that would score ``entry`` on ``benchmark``."""
    words = ["brainbench", "score", _quoted(entry.model)]
    if entry.random_init:
        words.append("--random-init")
        seeds = {r.seed for r in records.values()}
        if len(seeds) == 1 and seeds != {0}:  # random weights are drawn from the seed
            words += ["--seed", str(seeds.pop())]
    if entry.visual_degrees != ASSUMED_VISUAL_DEGREES:
        words += ["--visual-degrees", f"{entry.visual_degrees:g}"]
    if entry.layers is not None:
        words += ["--layers", ",".join(entry.layers)]
    return " ".join([*words, "-b", _quoted(benchmark)])


def _quoted(word: str) -> str:
    return word if all(c.isalnum() or c in "._:-/,=" for c in word) else "'" + word.replace("'", "'\\''") + "'"


def _summaries(rows: list[BenchmarkRow], n_models: int) -> tuple[RegionSummary, ...]:
    columns = [c for c in REGIONS if any(row.column == c for row in rows)]
    summaries = [_summary(c, [row for row in rows if row.column == c], n_models) for c in columns]
    return (*summaries, _average(summaries, n_models)) if summaries else ()


def _summary(column: str, rows: list[BenchmarkRow], n_models: int) -> RegionSummary:
    """Per model: its mean over the column's benchmarks it shares with the first, and the difference's estimate."""
    means: list[float | None] = []
    first_means: list[float | None] = []
    over: list[tuple[str, ...]] = []
    estimates: list[Estimate | None] = []
    for i in range(n_models):
        shared = [row for row in rows if row.scores[i] is not None and row.scores[0] is not None]
        over.append(tuple(row.benchmark for row in shared))
        means.append(_mean([row.scores[i].ceiled for row in shared]) if shared else None)
        first_means.append(_mean([row.scores[0].ceiled for row in shared]) if shared else None)
        parts = [row.estimates[i] for row in shared]
        estimates.append(_combined(parts, f"{len(parts)} {column} benchmark(s)") if i and shared else None)
    return RegionSummary(region=column, means=tuple(means), benchmarks=tuple(over), estimates=tuple(estimates),
                         first_means=tuple(first_means))


def _average(summaries: list[RegionSummary], n_models: int) -> RegionSummary:
    """Per model: the mean of its region means over the regions it shares with the first, and the difference's."""
    means: list[float | None] = []
    first_means: list[float | None] = []
    over: list[tuple[str, ...]] = []
    estimates: list[Estimate | None] = []
    for i in range(n_models):
        shared = [s for s in summaries if s.means[i] is not None]
        over.append(tuple(s.region for s in shared))
        means.append(_mean([s.means[i] for s in shared]) if shared else None)
        first_means.append(_mean([s.first_means[i] for s in shared]) if shared else None)
        parts = [s.estimates[i] for s in shared]
        estimates.append(_combined(parts, f"{len(parts)} region(s)") if i and shared else None)
    return RegionSummary(region=AVERAGE, means=tuple(means), benchmarks=tuple(over), estimates=tuple(estimates),
                         first_means=tuple(first_means))


def _combined(parts: list[Estimate | None], what: str) -> Estimate | None:
    """The mean of independent estimates: standard errors from their 95 % intervals (half-width / 1.96, which
    overstates a t interval's), combined as independent; one estimate as it is; None when any part has none."""
    if not parts or any(p is None for p in parts):
        return None
    known = [p for p in parts if p is not None]
    if len(known) == 1:  # the mean of one difference is that difference, with its own interval and p
        return known[0]
    difference = _mean([p.difference for p in known])
    se = math.sqrt(sum(((p.ci_high - p.ci_low) / (2 * _Z95)) ** 2 for p in known)) / len(known)
    # Two-sided normal p; se = 0 only when every part's interval is a point.
    p_value = math.erfc(abs(difference) / se / math.sqrt(2)) if se > 0 else 1.0 if difference == 0 else 0.0
    levels = {p.level for p in known}
    return Estimate(
        difference=difference, ci_low=difference - _Z95 * se, ci_high=difference + _Z95 * se, p_value=p_value,
        method=f"mean of the differences over {what}; standard errors from each one's 95 % interval (half-width / "
               "1.96) combined as independent, normal approximation; not corrected for multiple comparisons",
        level="units" if levels == {"units"} else "folds",
    )


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)
