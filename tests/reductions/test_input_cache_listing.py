"""The decoded-input cache in ``brainbench cache info|clear``, and BRAINBENCH_CACHE_SIZE bounding it together with the
reduction cache: least recently used files go first, never the one just written nor the pixels a reader holds, and a
file gone between listing and reading is decoded again."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from brainbench import paths
from brainbench.data.stimuli import StimulusSet, in_memory_stimuli
from brainbench.models import input_cache
from brainbench.models.preprocessing import input_pixels, place_on_screen
from brainbench.reductions.store import ReductionStore

SIZE = 24  # px: every geometry below gives files of the same size
MODEL_DEGREES = 8.0


def _stimuli(name: str = "mem", n: int = 7, seed: int = 0) -> StimulusSet:
    images = np.random.default_rng(seed).integers(0, 256, size=(n, 30, 20, 3), dtype=np.uint8)
    metadata = pd.DataFrame({"stimulus_id": [f"s{i}" for i in range(n)]}).set_index("stimulus_id")
    return in_memory_stimuli(name, images, metadata)


def _expected(stimuli: StimulusSet, degrees: float) -> np.ndarray:
    """The pixels decoded here, image by image, without the cache."""
    return np.stack([input_pixels(place_on_screen(stimuli.load(i), degrees, MODEL_DEGREES), SIZE)
                     for i in stimuli.stimulus_ids])


def _inputs(stimuli: StimulusSet, degrees: float) -> np.ndarray:
    return input_cache.model_inputs(stimuli, degrees, MODEL_DEGREES, SIZE, paths.stimulus_cache())


def _files(home: Path) -> list[Path]:
    return sorted((home / "stimuli" / "inputs").glob("*.npy"))


def _on_disk(home: Path) -> int:
    """Bytes of every file of both caches, from os.stat (partials would count too: there must be none)."""
    folders = (home / "stimuli" / "inputs", home / "reductions")
    return sum(p.stat().st_size for folder in folders if folder.is_dir() for p in folder.iterdir())


def _age(path: Path, seconds: float) -> None:
    os.utime(path, (seconds, seconds))


def test_info_lists_the_input_files_by_stimulus_set_with_their_bytes(cli, home: Path) -> None:
    _inputs(_stimuli("setA"), 4.0)
    _inputs(_stimuli("setA"), 6.0)
    _inputs(_stimuli("setB", seed=1), 4.0)
    _inputs(_stimuli("old", seed=2), 4.0)
    files = _files(home)
    assert len(files) == 4
    # A sidecar as older versions wrote it, without the set's name or geometry: listed as "?".
    old_sidecar = next(p for p in (home / "stimuli" / "inputs").glob("*.npy.json")
                       if json.loads(p.read_text())["stimuli"] == "old")
    record = json.loads(old_sidecar.read_text())
    for name in ("stimuli", "stimulus_degrees", "model_degrees", "input_size"):
        del record[name]
    old_sidecar.write_text(json.dumps(record))
    ReductionStore().put({"kind": "rdm", "layer": "a", "model": {"identifier": "m"}}, {"value": np.zeros(50)})

    def size(path: Path) -> int:
        return path.stat().st_size + path.with_name(path.name + ".json").stat().st_size

    by_set: dict[str, int] = {}
    for path in files:
        name = json.loads(path.with_name(path.name + ".json").read_text()).get("stimuli", "?")
        by_set[name] = by_set.get(name, 0) + size(path)
    result = cli("cache", "info", "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["inputs"]["location"] == str(home / "stimuli" / "inputs")
    assert info["inputs"]["files"] == 4 and info["inputs"]["bytes"] == sum(size(p) for p in files)
    assert info["inputs"]["by_stimuli"] == {"?": {"files": 1, "bytes": by_set["?"]},
                                            "setA": {"files": 2, "bytes": by_set["setA"]},
                                            "setB": {"files": 1, "bytes": by_set["setB"]}}
    assert info["total_bytes"] == _on_disk(home) == info["bytes"] + info["inputs"]["bytes"]
    table = cli("cache", "info")
    assert table.exit_code == 0, table.output
    assert "input cache" in table.output and "4 files" in table.output
    assert "4 deg in 8 deg, 24 px" in table.output and "6 deg in 8 deg, 24 px" in table.output
    assert any(line.split()[:2] == ["?", "?"] for line in table.output.splitlines()), table.output


def test_clear_keeps_the_inputs_unless_asked(cli, home: Path) -> None:
    _inputs(_stimuli(), 4.0)
    _inputs(_stimuli(), 6.0)
    ReductionStore().put({"kind": "rdm", "layer": "a", "model": {"identifier": "m"}}, {"value": np.zeros(50)})
    inputs_bytes = sum(p.stat().st_size for p in (home / "stimuli" / "inputs").iterdir())
    plain = cli("cache", "clear")
    assert plain.exit_code == 0 and "removed 1 cached reduction(s)" in plain.output
    assert "decoded input" not in plain.output and len(_files(home)) == 2
    both = cli("cache", "clear", "--inputs")
    assert both.exit_code == 0, both.output
    assert f"and 2 decoded input file(s), {inputs_bytes / 2**20:.1f} MiB, from {home / 'stimuli' / 'inputs'}." \
        in both.output
    assert list((home / "stimuli" / "inputs").iterdir()) == []
    refused = cli("cache", "clear", "--inputs", "--model", "m")
    assert refused.exit_code == 2 and refused.stderr.startswith("error: --inputs cannot be combined with --model")


def test_a_hit_touches_the_file(home: Path) -> None:
    stimuli = _stimuli()
    _inputs(stimuli, 4.0)
    (path,) = _files(home)
    _age(path, 1000.0)
    assert np.array_equal(_inputs(stimuli, 4.0), _expected(stimuli, 4.0))
    assert path.stat().st_mtime > 1000.0


def test_eviction_keeps_the_most_recently_used_of_both_caches_within_the_bound(home: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    stimuli = _stimuli()
    _inputs(stimuli, 4.0)
    (first,) = _files(home)
    one_file = first.stat().st_size + first.with_name(first.name + ".json").stat().st_size
    limit = int(3.5 * one_file)
    monkeypatch.setenv("BRAINBENCH_CACHE_SIZE", str(limit))
    _inputs(stimuli, 5.0)
    store = ReductionStore()
    assert store.limit == limit
    rdm = {"kind": "rdm", "layer": "a", "model": {"identifier": "m"}}
    store.put(rdm, {"value": np.zeros(one_file // 8 - 60)})  # about one input file's bytes
    reduction = store.folder / f"{store.key(rdm)}.npz"
    by_degrees = {json.loads(p.with_name(p.name + ".json").read_text())["stimulus_degrees"]: p for p in _files(home)}
    _age(by_degrees[4.0], 1000.0)
    _age(by_degrees[5.0], 1001.0)
    _age(reduction, 1002.0)  # 4 deg, then 5 deg, then the reduction were last used
    assert np.array_equal(_inputs(stimuli, 4.0), _expected(stimuli, 4.0))  # a hit: 4 deg is now the most recent
    _inputs(stimuli, 6.0)  # four files of about one_file each against 3.5: the least recently used, 5 deg, goes
    kept = {json.loads(p.with_name(p.name + ".json").read_text())["stimulus_degrees"] for p in _files(home)}
    assert kept == {4.0, 6.0} and reduction.exists()
    assert _on_disk(home) <= limit
    # Two reductions alone would fit: this write evicts only because the inputs count too; 'a' is the least recent.
    store.put({**rdm, "layer": "b"}, {"value": np.zeros(one_file // 8 - 60)})
    assert not reduction.exists() and [e.fields["layer"] for e in store.entries()] == ["b"]
    assert len(_files(home)) == 2
    assert _on_disk(home) <= limit


def test_a_read_after_eviction_decodes_the_same_pixels_and_a_reader_keeps_its_own(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stimuli = _stimuli()
    held = _inputs(stimuli, 4.0)  # memory-mapped, as a forward pass holds it
    (first,) = _files(home)
    monkeypatch.setenv("BRAINBENCH_CACHE_SIZE", str(int(1.5 * (first.stat().st_size + 1000))))
    _age(first, 1000.0)
    _inputs(stimuli, 6.0)  # only one file fits: the 4 deg file is evicted, never the one just written
    assert [json.loads(p.with_name(p.name + ".json").read_text())["stimulus_degrees"] for p in _files(home)] == [6.0]
    assert np.array_equal(held, _expected(stimuli, 4.0)), "a reader's mapped pixels outlive the file's removal"
    again = _inputs(stimuli, 4.0)
    assert np.array_equal(again, _expected(stimuli, 4.0))
    assert [json.loads(p.with_name(p.name + ".json").read_text())["stimulus_degrees"] for p in _files(home)] == [4.0]


def test_a_file_removed_between_listing_and_reading_is_decoded_again_quietly(
        home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    stimuli = _stimuli()
    _inputs(stimuli, 4.0)
    (path,) = _files(home)
    input_cache._verified.clear()  # as in a new process: the file is checked before it is read
    checksum = input_cache.sha256_of

    def evicted_meanwhile(file: Path) -> str:  # another process evicts it after this one saw it exist
        if file == path:
            path.unlink()
        return checksum(file)

    monkeypatch.setattr(input_cache, "sha256_of", evicted_meanwhile)
    with caplog.at_level(logging.WARNING, logger="brainbench.models.input_cache"):
        try:
            got = _inputs(stimuli, 4.0)
        except FileNotFoundError:
            pytest.fail("a file evicted between listing and reading must be decoded again")
    assert np.array_equal(got, _expected(stimuli, 4.0))
    assert caplog.records == [], "an evicted file is not damage: no warning"
    assert path.exists()


@pytest.mark.parametrize("bound", ["1000", "0"])
def test_a_set_larger_than_the_bound_is_decoded_in_memory_and_not_kept(home: Path, monkeypatch: pytest.MonkeyPatch,
                                                                       bound: str) -> None:
    monkeypatch.setenv("BRAINBENCH_CACHE_SIZE", bound)  # 7 × 24 × 24 × 3 = 12 096 bytes > 1000; 0 = off
    stimuli = _stimuli()
    assert np.array_equal(_inputs(stimuli, 4.0), _expected(stimuli, 4.0))
    assert not (home / "stimuli" / "inputs").exists() or list((home / "stimuli" / "inputs").iterdir()) == []


_WORKER = """
import sys, time
from pathlib import Path
import numpy as np, pandas as pd
from brainbench import paths
from brainbench.data.stimuli import in_memory_stimuli
from brainbench.models.input_cache import model_inputs
from brainbench.models.preprocessing import input_pixels, place_on_screen
ready, go = Path(sys.argv[1]), Path(sys.argv[2])
images = np.random.default_rng(0).integers(0, 256, size=(40, 50, 70, 3), dtype=np.uint8)
stimuli = in_memory_stimuli("shared", images, pd.DataFrame({"stimulus_id": [f"s{i}" for i in range(40)]})
                            .set_index("stimulus_id"))
expected = {d: np.stack([input_pixels(place_on_screen(stimuli.load(i), d, 8.0), 64) for i in stimuli.stimulus_ids])
            for d in (4.0, 5.0, 6.0, 7.0)}
ready.touch()
while not go.exists():
    time.sleep(0.005)
for _ in range(5):
    for degrees, pixels in expected.items():
        got = model_inputs(stimuli, degrees, 8.0, 64, paths.stimulus_cache())
        if not np.array_equal(np.asarray(got), pixels):
            sys.exit(f"wrong pixels at {degrees} deg")
"""


def test_two_processes_evicting_each_others_inputs_read_the_right_pixels(home: Path, tmp_path: Path) -> None:
    one_file = 40 * 64 * 64 * 3 + 128 + 400  # array, npy header and json sidecar, roughly
    env = {**os.environ, "BRAINBENCH_HOME": str(home), "BRAINBENCH_CACHE_SIZE": str(int(2.5 * one_file))}
    go, ready = tmp_path / "go", [tmp_path / f"ready{i}" for i in range(2)]
    workers = [subprocess.Popen([sys.executable, "-c", _WORKER, str(flag), str(go)], env=env, stderr=subprocess.PIPE,
                                text=True) for flag in ready]
    while not all(flag.exists() for flag in ready):  # both have their references: their writes and evictions interleave
        assert all(worker.poll() is None for worker in workers), [w.stderr.read() for w in workers if w.stderr]
        time.sleep(0.01)
    go.touch()
    results = [(worker.wait(timeout=300), worker.stderr.read() if worker.stderr else "") for worker in workers]
    assert [code for code, _ in results] == [0, 0], results
    folder = home / "stimuli" / "inputs"
    assert not [p for p in folder.iterdir() if p.name.startswith(".")], "no partial file is left behind"
    assert _on_disk(home) <= int(2.5 * one_file), "the last write's eviction saw every file renamed before it"
