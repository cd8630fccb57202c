"""``benchmarks/checks.py``: every built-in benchmark checks clean against the real data, and each kind of mistake in
a definition (a broken copy of a built-in TOML in a user definitions folder) is one sentence naming it.

The references are the definitions and data themselves: which datasets the mirror holds (read from its folders), the
assemblies a dataset has (read from the loaded dataset), the keys each kind's code reads.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path

import pytest

from brainbench.benchmarks.checks import KIND_KEYS, check_benchmark, check_definitions, static_problems
from brainbench.benchmarks.kinds import KINDS
from brainbench.benchmarks.spec import BenchmarkSpec
from brainbench.data.manifest import list_manifests

REPO = Path(__file__).resolve().parents[2]
COWLEY = "cowley2023_v4"


def broken_copy(folder: Path, builtin: str, edits: dict[str, str], identifier: str | None = None) -> str:
    """``<folder>/benchmarks/<id>.toml``: the built-in ``builtin`` under a new id (``MyLab.<builtin>`` unless given),
    each ``old`` text (asserted to occur once: the test must break what it means to break) replaced by ``new``;
    ``""``: ``new`` appended."""
    text = (REPO / "benchmarks" / f"{builtin}.toml").read_text()
    identifier = identifier or f"MyLab.{builtin}"
    for old, new in {f'id = "{builtin}"\n': f'id = "{identifier}"\n', **edits}.items():
        if not old:
            text += new + "\n"
            continue
        assert text.count(old) == 1, f"{builtin} has not exactly one {old!r}"
        text = text.replace(old, new)
    target = folder / "benchmarks" / f"{identifier}.toml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    return identifier


def problems_of(identifier: str, folder: Path, mirror: Path) -> list[str]:
    (report,) = check_definitions([identifier], [mirror], allow_download=False, definitions=[folder])
    assert not report.unavailable, report.unavailable
    return report.problems


@pytest.mark.mirror
def test_every_built_in_benchmark_checks_clean(home: Path, mirror: Path) -> None:
    reports = check_definitions(mirrors=[mirror], allow_download=False)
    in_mirror = {m.name for m in list_manifests()  # embedded: shipped inside brainbench
                 if (mirror / m.mirror_folder).is_dir() or all(f.embedded for f in m.files)}
    builtin = {p.stem for p in (REPO / "benchmarks").glob("*.toml")}
    assert {r.name for r in reports} == builtin
    for report in reports:
        assert report.problems == [], report.name
        dataset = tomllib.loads(report.definition.path.read_text())["dataset"]
        # Data the mirror lacks is reported as unavailable (not checked, not failed); the rest is checked: ok.
        assert report.status == ("ok" if dataset in in_mirror else "unavailable"), report.name
    assert sum(r.status == "ok" for r in reports) >= 15  # 92 images, Cowley, Geirhos, Marques: really checked


# --- the definition alone ---------------------------------------------------------------------------------------

STATIC = [
    ("Cowley2023.V4-pls", {'method = "internal_consistency"': 'method = "internal_consistancy"'},
     ["[ceiling] method 'internal_consistancy' is not one of internal_consistency, none, published. Did you mean "
      "internal_consistency?"]),
    ("Cowley2023.V4-pls", {"n_components = 25": "n_component = 25"},
     ["[metric] has no key 'n_component' for kind neural (keys: regression, n_components, n_splits, train_size, "
      "random_state, alphas, stratify, time_bin, time_window). Did you mean n_components?"]),
    ("Cowley2023.V4-pls", {"n_splits = 10\ntrain_size = 0.9": "n_splits = 1\ntrain_size = 1.5"},
     ["[metric] n_splits = 1 must be a whole number of at least 2.",
      "[metric] train_size = 1.5 must be a number above 0 and below 1."]),
    ("Cowley2023.V4-pls", {'regression = "pls"': 'regression = "ridge"'},
     ['[metric] n_components is read only with regression = "pls" (this is ridge).']),
    ("Cowley2023.V4-pls", {'assembly = "Cowley2023.210225.V4"':
                           'assembly = "Cowley2023.210225.V4"\nmethod = "stratified_half"'},
     ['[layer_selection] needs exactly one of assembly = "<another assembly of the dataset>" or method = '
      '"stratified_half" (how the layer is committed).']),
    ("Cowley2023.V4-pls", {'assembly = "Cowley2023.210225.V4"': 'assembly = "Cowley2023.210325.V4"'},
     ["[layer_selection] assembly is the scored assembly itself, so the layer would be chosen on the data it is "
      'scored on; name another assembly, or method = "stratified_half".']),
    ("Kiani2007.IT-rsa", {'method = "none"': 'method = "publised"\nvalue = 0.5\ncitation = "Somebody 2020"'},
     ["[ceiling] method 'publised' is not one of none, nili_upper, nili_lower, published. Did you mean published?"]),
    ("Kiani2007.IT-rsa", {'kind = "rsa"': 'kind = "rsaa"'},
     [f"kind 'rsaa' is not one of {', '.join(KINDS)}. Did you mean rsa?"]),
    ("Kiani2007.IT-rsa", {'region = "IT"': 'regoin = "IT"'},
     ["the definition has no key 'regoin' (keys: id, version, kind, region, dataset, assembly, stimulus_degrees, "
      "description, citation, column, metric, layer_selection, ceiling). Did you mean region?",
      "the required key 'region' is missing."]),
    ("Kiani2007.IT-rsa", {'comparison = "spearman"': 'comparison = "spearmann"'},
     ["[metric] comparison 'spearmann' is not one of spearman, kendall_tau_a, pearson. Did you mean spearman, "
      "pearson?"]),
    ("Kiani2007.IT-rsa", {'comparison = "spearman"': 'comparison = "spearman"\nsquared = true'},
     ['[metric] squared = true needs a published R² ceiling ([ceiling] method = "published", value, citation): the '
      "Nili bounds bound correlations, not squared correlations."]),
    ("Kiani2007.IT-rsa", {'method = "none"': 'method = "published"\nvalue = 1.2'},
     ["[ceiling] value = 1.2 must be a number above 0 and at most 1.",
      "[ceiling] method 'published' needs citation = \"...\" (where it is published)."]),
    ("Kriegeskorte2008.IT-rsa", {'method = "nili_upper"': 'method = "nili_upper"\nvalue = 0.5'},
     ["[ceiling] value is read only with method = 'published'; remove it or set that method."]),
    ("Kiani2007.IT-rsa", {"n_splits = 10": "n_splits = 10.0", "seed = 0": "seed = -1"},
     ["[layer_selection] n_splits = 10.0 must be a whole number of at least 2.",
      "[layer_selection] seed = -1 must be a whole number of at least 0."]),
    ("Kiani2007.IT-rsa", {"stimulus_degrees = 7.0": 'stimulus_degrees = "7"', "version = 2": "version = 0"},
     ["version = 0 must be a whole number of at least 1.", "stimulus_degrees = '7' must be a number above 0."]),
    ("Kiani2007.IT-rsa", {"": 'column = "IT2"'},  # appended after [ceiling]: a key of that table, as TOML reads it
     ["[ceiling] has no key 'column' for kind rsa (keys: method, value, citation)."]),
    ("Geirhos2019.cue_conflict-shape_bias", {"": '[ceiling]\nmethod = "published"'},
     ["[ceiling] is not read for kind behavior_shape_bias; remove the key 'method'."]),
    ("Marques2020.V1-peak_spatial_frequency", {'method = "split_half"': 'method = "split-half"'},
     ["[ceiling] method 'split-half' is not one of split_half. Did you mean split_half?"]),
]


@pytest.mark.parametrize(("builtin", "edits", "expected"), STATIC, ids=[f"{b}-{i}" for i, (b, *_) in
                                                                        enumerate(STATIC)])
def test_each_mistake_in_a_definition_is_one_sentence(builtin: str, edits: dict[str, str], expected: list[str],
                                                      home: Path, tmp_path: Path) -> None:
    identifier = broken_copy(tmp_path, builtin, edits)
    (report,) = check_definitions([identifier], allow_download=False, definitions=[tmp_path])
    assert sorted(report.problems) == sorted(expected)
    assert all("\n" not in p and p.endswith((".", "?")) for p in report.problems)


def test_an_unchanged_copy_is_clean_so_the_problems_above_come_from_the_edits(home: Path, tmp_path: Path) -> None:
    for builtin in sorted({b for b, *_ in STATIC}):
        identifier = broken_copy(tmp_path, builtin, {})
        (report,) = check_definitions([identifier], allow_download=False, definitions=[tmp_path])
        assert report.problems == [], builtin


def test_a_toml_syntax_error_and_a_repeated_id_are_problems_of_their_file(home: Path, tmp_path: Path) -> None:
    broken = tmp_path / "benchmarks" / "broken.toml"
    broken.parent.mkdir(parents=True)
    broken.write_text('id = "x"\nversion = \n')
    broken_copy(tmp_path, "Kiani2007.IT-rsa", {}, identifier="Kiani2007.IT-rsa")  # the built-in id again
    reports = {r.name: r for r in check_definitions(allow_download=False, definitions=[tmp_path])}
    (syntax,) = reports[str(broken)].problems
    assert syntax.startswith(f"Cannot read definition file {broken}: ") and "line 2" in syntax
    repeated = [r for r in reports.values() if r.definition.path.parent == broken.parent and r.name != str(broken)]
    assert [r.problems for r in repeated] == [[
        f"the id is also defined in {REPO / 'benchmarks' / 'Kiani2007.IT-rsa.toml'} (built-in); rename or remove one "
        "of them."]]
    assert reports["Kriegeskorte2008.IT-rsa"].problems == []  # one broken file does not stop the others' checks


def test_a_file_outside_the_definition_folders_is_checked_too(home: Path, tmp_path: Path) -> None:
    identifier = broken_copy(tmp_path / "elsewhere", "Kiani2007.IT-rsa", {'kind = "rsa"': 'kind = "rsaa"'})
    path = tmp_path / "elsewhere" / "benchmarks" / f"{identifier}.toml"
    (report,) = check_definitions([str(path)], allow_download=False)
    assert report.name == identifier and report.definition.origin == "file"
    assert report.problems[0].startswith("kind 'rsaa' is not one of")


def test_a_spec_built_in_python_is_checked_by_its_fields() -> None:
    spec = BenchmarkSpec(id="py.V4-pls", version=1, kind="neural", region="V4", dataset="cowley2023",
                         assembly="Cowley2023.210325.V4", stimulus_degrees=8.0, metric={"n_component": 25},
                         layer_selection={"method": "stratified_half"})
    (problem,) = check_benchmark(spec)
    assert problem.startswith("[metric] has no key 'n_component' for kind neural") and "n_components?" in problem


def test_every_built_in_kind_has_its_keys_listed() -> None:
    """A kind added to KINDS without its keys in KIND_KEYS would have none of its keys checked."""
    assert set(KIND_KEYS) == set(KINDS)


def test_a_kind_added_at_run_time_is_known_and_its_keys_are_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = {"id": "x", "version": 1, "kind": "my_kind", "region": "MT", "dataset": "d", "assembly": "a",
           "stimulus_degrees": 8, "metric": {"anything": 1}}
    assert static_problems(raw)[0].startswith("kind 'my_kind' is not one of")
    monkeypatch.setitem(KINDS, "my_kind", lambda *args, **kwargs: None)
    assert static_problems(raw) == []


# --- the definition against its data -----------------------------------------------------------------------------

DATA = [
    ("Kriegeskorte2008.IT-rsa", {'assembly = "Kriegeskorte2008.IT"': 'assembly = "Kriegeskorte2008.ITT"'},
     re.escape("assembly 'Kriegeskorte2008.ITT' is not an assembly of dataset kriegeskorte2008 (it has: ")
     + r".*Kriegeskorte2008\.IT.*\)\. Did you mean Kriegeskorte2008\.IT.*\?"),
    ("Cowley2023.V4-pls", {'assembly = "Cowley2023.210225.V4"': 'assembly = "Cowley2023.210225.V5"'},
     re.escape("[layer_selection] assembly 'Cowley2023.210225.V5' is not an assembly of dataset cowley2023 (it has: "
               "Cowley2023.210225.V4, Cowley2023.210325.V4). Did you mean Cowley2023.210225.V4") + ".*"),
    ("Kiani2007.IT-rsa", {'method = "none"': 'method = "nili_upper"'},
     re.escape("[ceiling] method 'nili_upper' needs RDMs of at least 2 subjects, but assembly Kiani2007.IT holds one "
               'RDM; use method = "none" or a published ceiling.')),
    ("Kiani2007.IT-rsa", {'stratify = "category"': 'stratify = "categroy"'},
     re.escape("[layer_selection] stratify 'categroy' is not a column of the stimulus metadata of dataset "
               "kriegeskorte2008 (columns: ") + r".*\)\. Did you mean category\?"),
    ("Kiani2007.IT-rsa", {'dataset = "kriegeskorte2008"': 'dataset = "cowley2023"',
                          'assembly = "Kiani2007.IT"': 'assembly = "Cowley2023.210325.V4"',
                          'stratify = "category"': ""},
     re.escape("assembly Cowley2023.210325.V4 has dims (presentation, neuroid) of shape (") + r"\d+, 50\)" +
     re.escape("; the rsa kind needs RDMs: [unit dims ×] stimulus_a × stimulus_b, square.")),
    ("Cowley2023.V4-pls", {'dataset = "cowley2023"': 'dataset = "kriegeskorte2008"',
                           'assembly = "Cowley2023.210325.V4"': 'assembly = "Kriegeskorte2008.IT"',
                           'assembly = "Cowley2023.210225.V4"': 'method = "stratified_half"'},
     re.escape("assembly Kriegeskorte2008.IT: The assembly has no 'presentation' dimension (dims: subject, session, "
               "stimulus_a, stimulus_b).")),
    ("Marques2020.V1-peak_spatial_frequency", {"stimulus_degrees = 12.0": "stimulus_degrees = 8.0"},
     re.escape("stimulus_degrees = 8, but the gratings of the v1_properties kind are drawn on a 12° canvas.")),
    ("Geirhos2019.edge-error_consistency", {'assembly = "Geirhos2019.edge"': 'assembly = "imagenet_16class"'},
     re.escape("assembly imagenet_16class has no stimulus_id coordinate; the behavior_error_consistency kind reads "
               "trials.")),
]


@pytest.mark.mirror
@pytest.mark.parametrize(("builtin", "edits", "expected"), DATA, ids=[f"{b}-{i}" for i, (b, *_) in enumerate(DATA)])
def test_each_mismatch_with_the_data_is_one_sentence(builtin: str, edits: dict[str, str], expected: str, home: Path,
                                                     tmp_path: Path, mirror: Path) -> None:
    identifier = broken_copy(tmp_path, builtin, edits)
    (problem,) = problems_of(identifier, tmp_path, mirror)
    assert re.fullmatch(expected, problem), problem


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def single_repetition_dataset(folder: Path, mirror: Path) -> Path:
    """A user dataset (generic loader, local files) over Cowley2023's repeat-averaged session 210325: one response per
    stimulus and neuroid, so no repetitions to split in halves."""
    images = mirror / COWLEY / "images" / "images_210325.zip"
    responses = mirror / COWLEY / "responses_repeat_averaged" / "responses_210325.npy"
    manifest = folder / "data_manifests" / "mylab_v4.toml"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(f'''name = "mylab_v4"
title = "Session 210325, repeat-averaged, as a lab would have it"
loader = "generic"

[[files]]
path = "images_210325.zip"
local = "{images}"
sha256 = "{_sha256(images)}"

[[files]]
path = "responses_210325.npy"
local = "{responses}"
sha256 = "{_sha256(responses)}"

[[stimuli]]
images = "images_210325.zip"

[[assemblies]]
name = "MyLab.210325.V4"
format = "responses"
file = "responses_210325.npy"
dims = ["neuroid", "stimulus"]
region = "V4"
''')
    return manifest


def single_repetition_benchmark(folder: Path, ceiling: str = "internal_consistency") -> str:
    """Cowley2023.V4-pls over that dataset (its layer committed on a stratified half), with the ceiling ``method``
    (its other ceiling keys kept only for internal consistency)."""
    identifier = broken_copy(folder, "Cowley2023.V4-pls", {
        'dataset = "cowley2023"': 'dataset = "mylab_v4"',
        'assembly = "Cowley2023.210325.V4"': 'assembly = "MyLab.210325.V4"',
        'assembly = "Cowley2023.210225.V4"': 'method = "stratified_half"'}, identifier="MyLab.V4-pls")
    if ceiling != "internal_consistency":
        path = folder / "benchmarks" / f"{identifier}.toml"
        path.write_text(path.read_text().split("[ceiling]")[0] + f'[ceiling]\nmethod = "{ceiling}"\n')
    return identifier


INTERNAL_CONSISTENCY_REFUSED = (
    "[ceiling] method 'internal_consistency' needs at least 2 repetitions per stimulus, but assembly MyLab.210325.V4 "
    "has one presentation of each of its 640 stimuli; use method = \"published\" with its value and citation, or "
    "method = \"none\"."
)


@pytest.mark.mirror
def test_internal_consistency_on_single_repetition_data_is_refused(home: Path, tmp_path: Path,
                                                                   mirror: Path) -> None:
    single_repetition_dataset(tmp_path, mirror)
    identifier = single_repetition_benchmark(tmp_path)
    assert problems_of(identifier, tmp_path, mirror) == [INTERNAL_CONSISTENCY_REFUSED]
    # The same definition over the raw session (10 repetition slots per stimulus) has a ceiling: checks clean.
    text = (tmp_path / "benchmarks" / f"{identifier}.toml").read_text()
    manifest = tmp_path / "data_manifests" / "mylab_v4.toml"
    raw = mirror / COWLEY / "responses_raw" / "responses_210325.npy"
    manifest.write_text(manifest.read_text().replace(
        str(mirror / COWLEY / "responses_repeat_averaged" / "responses_210325.npy"), str(raw)).replace(
        _sha256(mirror / COWLEY / "responses_repeat_averaged" / "responses_210325.npy"), _sha256(raw)).replace(
        'dims = ["neuroid", "stimulus"]', 'dims = ["neuroid", "stimulus", "repetition"]'))
    assert "internal_consistency" in text and problems_of(identifier, tmp_path, mirror) == []
