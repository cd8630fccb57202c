"""End to end: user-written TOMLs (a generic dataset and a benchmark, in a --definitions folder) over the published
files score a model exactly as the built-in benchmarks over the same files do.

The built-in benchmarks (kriegeskorte2008 / cowley2023 loaders, their own TOMLs) are the reference: an independent
path to the same arrays, then the same scoring code. The user's copies of the benchmark TOMLs differ only in id,
dataset and assembly names, so any difference in a score would come from the generic loader's assemblies or stimuli.
A small real network (the example plugin's tinycnn) on the CPU.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

import brainbench
from tests.benchmarks import test_determinism
from tests.data.test_generic_loader import KRIEGESKORTE, write_92_images

pytestmark = [pytest.mark.mirror, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]


tinycnn = test_determinism.tinycnn  # the fixture: the example plugin's tinycnn, registered inside the test


def _files_toml(files: dict[str, Path], where: dict[str, str]) -> str:
    """``[[files]]`` tables: each file's sha256 and size, and ``where[name]``: how it is found (local = ... or a
    mirror_folder = ...)."""
    return "".join(f'\n[[files]]\npath = "{name}"\n{where[name]}\n'
                   f'sha256 = "{hashlib.sha256(p.read_bytes()).hexdigest()}"\nsize = {p.stat().st_size}\n'
                   for name, p in files.items())


MYLAB_IT = """
name = "mylab_it"
title = "The human IT fMRI RDMs of the 92 images, as a lab's own files"
loader = "generic"
citations = ["Kriegeskorte N, Mur M, Ruff DA, et al. (2008). Neuron 60:1126-1141."]

[[stimuli]]
images = "images/"
csv = "stimuli.csv"

[[assemblies]]
name = "MyLab.IT"
format = "rdm"
file = "92_brainRDMs.mat"
variable = "RDMs.RDM"
dims = ["group", "subject", "session", "stimulus", "stimulus"]
region = "IT"
species = "human"
measurement = "fMRI"
[assemblies.coords]
subject = ["BE", "KO", "SN", "TI"]
"""

MYLAB_V4 = """
name = "mylab_v4"
title = "Two V4 sessions of Cowley et al. 2023, as a lab's own files"
loader = "generic"

[[stimuli]]
name = "s210325"
images = "images/images_210325.zip"
id_prefix = "210325_"

[[stimuli]]
name = "s210225"
images = "images/images_210225.zip"
id_prefix = "210225_"

[[assemblies]]
name = "MyLab.210325.V4"
format = "responses"
file = "responses_raw/responses_210325.npy"
dims = ["neuroid", "stimulus", "repetition"]
stimuli = "s210325"
region = "V4"

[[assemblies]]
name = "MyLab.210225.V4"
format = "responses"
file = "responses_repeat_averaged/responses_210225.npy"
dims = ["neuroid", "stimulus"]
stimuli = "s210225"
region = "V4"
"""


def _user_benchmark(builtin: str, new_id: str, renames: dict[str, str]) -> str:
    """The built-in benchmark's TOML with a new id and the user's dataset and assembly names."""
    text = (REPO / "benchmarks" / f"{builtin}.toml").read_text(encoding="utf-8").replace(builtin, new_id)
    for old, new in renames.items():
        assert old in text
        text = text.replace(old, new)
    return text


def test_user_benchmarks_over_generic_datasets_score_as_the_builtin_ones(home, mirror, tmp_path, tinycnn):
    definitions = tmp_path / "definitions"
    (definitions / "data_manifests").mkdir(parents=True)
    (definitions / "benchmarks").mkdir()
    # The lab's images (PNGs and their CSV) are local files, named relative to the manifest; the RDM file is found in
    # the data mirror's 92-images folder; the V4 files are local files named by absolute paths.
    images = write_92_images(mirror, tmp_path / "recordings")
    it_files = {**images, "92_brainRDMs.mat": mirror / KRIEGESKORTE / "92_brainRDMs.mat"}
    it_where = {name: f'local = "../../recordings/{name}"' for name in images}
    it_where["92_brainRDMs.mat"] = f'mirror_folder = "{KRIEGESKORTE}"'
    (definitions / "data_manifests" / "mylab_it.toml").write_text(MYLAB_IT + _files_toml(it_files, it_where))
    v4_files = {n: mirror / "cowley2023_v4" / n for n in ["images/images_210325.zip", "images/images_210225.zip",
                                                           "responses_raw/responses_210325.npy",
                                                           "responses_repeat_averaged/responses_210225.npy"]}
    (definitions / "data_manifests" / "mylab_v4.toml").write_text(
        MYLAB_V4 + _files_toml(v4_files, {n: f'local = "{p}"' for n, p in v4_files.items()}))
    (definitions / "benchmarks" / "MyLab.IT-rsa.toml").write_text(_user_benchmark(
        "Kriegeskorte2008.IT-rsa", "MyLab.IT-rsa",
        {'dataset = "kriegeskorte2008"': 'dataset = "mylab_it"', '"Kriegeskorte2008.IT"': '"MyLab.IT"'}))
    (definitions / "benchmarks" / "MyLab.V4-pls.toml").write_text(_user_benchmark(
        "Cowley2023.V4-pls", "MyLab.V4-pls",
        {'dataset = "cowley2023"': 'dataset = "mylab_v4"', '"Cowley2023.210325.V4"': '"MyLab.210325.V4"',
         '"Cowley2023.210225.V4"': '"MyLab.210225.V4"'}))

    pairs = [("Kriegeskorte2008.IT-rsa", "MyLab.IT-rsa"), ("Cowley2023.V4-pls", "MyLab.V4-pls")]
    records = brainbench.score(tinycnn, [b for pair in pairs for b in pair], save=False, device="cpu",
                               data_mirrors=[mirror], definitions=[definitions])
    by_id = {r.benchmark: r for r in records}
    for builtin, mine in pairs:
        reference, user = by_id[builtin], by_id[mine]
        assert user.layer == reference.layer
        # Same float64 arrays through the same code: equal up to summation order at most (1e-12 of a score in [0, 1]).
        for field in ("raw", "ceiling", "ceiled"):
            assert getattr(user, field) == pytest.approx(getattr(reference, field), abs=1e-12), field
        assert reference.ceiling is not None  # the ceilings compared are real numbers, not two Nones
