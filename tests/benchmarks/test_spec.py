"""Benchmark definitions: the shipped TOMLs, id conventions, pattern resolution."""

from __future__ import annotations

import re

import pytest

from brainbench.benchmarks.kinds import KINDS
from brainbench.benchmarks.spec import list_benchmarks, parse_benchmark, resolve_benchmarks
from brainbench.data.manifest import list_manifests
from brainbench.errors import BrainbenchError, UnknownNameError


def test_shipped_benchmarks_are_well_formed():
    specs = list_benchmarks()
    assert {"Kiani2007.IT-rsa", "Kriegeskorte2008.IT-rsa"} <= set(specs)
    datasets = {m.name for m in list_manifests()}
    for benchmark_id, spec in specs.items():
        _dataset, region, _metric = re.fullmatch(r"([A-Za-z]+\d{4})\.(\w+)-(\w+)", benchmark_id).groups()
        # Behaviour ids name the experiment where neural ids name the region (Geirhos2019.edge-…).
        assert spec.region == region or spec.region == "behavior", benchmark_id
        assert spec.kind in KINDS and spec.dataset in datasets
        assert spec.version >= 1 and spec.stimulus_degrees > 0


def test_patterns_resolve_in_order_without_repeats():
    assert [s.id for s in resolve_benchmarks(["Kriegeskorte2008.*", "*.IT-rsa"])] == [
        "Kriegeskorte2008.IT-rsa", "Kiani2007.IT-rsa",
    ]


def test_unknown_benchmark_suggests_close_ids():
    with pytest.raises(UnknownNameError, match=r"Kiani2007\.IT-rsa"):
        resolve_benchmarks(["Kiani2007.IT-rs"])


def test_bad_definitions_are_refused():
    good = {"id": "X2000.IT-rsa", "version": 1, "kind": "rsa", "region": "IT", "dataset": "d", "assembly": "a",
            "stimulus_degrees": 8}
    assert parse_benchmark(good).id == "X2000.IT-rsa"
    with pytest.raises(BrainbenchError, match="malformed"):
        parse_benchmark({k: v for k, v in good.items() if k != "version"})
    with pytest.raises(BrainbenchError, match="region is empty"):  # regions are free text (EVC, FFA, ...), not empty
        parse_benchmark({**good, "region": " "})


def test_the_column_a_benchmark_feeds():
    base = {"id": "X2000.IT-rsa", "version": 1, "kind": "rsa", "region": "IT", "dataset": "d", "assembly": "a",
            "stimulus_degrees": 8}
    default = parse_benchmark(base)
    assert default.column is None
    assert default.feeds(0.8) == "IT" and default.feeds(None) is None  # un-ceiled: shown, not averaged
    named = parse_benchmark({**base, "column": "V4"})
    assert named.feeds(None) == "V4" and named.feeds(0.8) == "V4"  # the definition says so: averaged either way
    assert parse_benchmark({**base, "column": "none"}).feeds(0.8) is None
    with pytest.raises(BrainbenchError, match=r"column 'EVC' is not one of V1, V2, V4, IT, behavior or 'none'"):
        parse_benchmark({**base, "column": "EVC"})


def test_shipped_benchmarks_without_a_ceiling_feed_no_column():
    specs = list_benchmarks()
    for benchmark_id in ("Kiani2007.IT-rsa", "Geirhos2019.cue_conflict-shape_bias"):
        assert specs[benchmark_id].column is None and specs[benchmark_id].feeds(None) is None
    assert specs["Kriegeskorte2008.IT-rsa"].feeds(0.7) == "IT"
