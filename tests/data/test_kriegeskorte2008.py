"""The 92-images dataset, loaded through brainbench, against the published files read independently."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import scipy.io
from scipy.spatial.distance import squareform
from scipy.stats import spearmanr

from brainbench.data import Dataset, load_dataset, load_manifest
from brainbench.data.loaders import get_loader, kriegeskorte2008
from brainbench.errors import BrainbenchError, DataError

pytestmark = pytest.mark.mirror

FOLDER = "kriegeskorte2008_92images"
SUPPLEMENT = "Kriegeskorte_Neuron2008_supplementalData.mat"


def text(value: np.ndarray) -> str:
    return str(value.ravel()[0])


@pytest.fixture(scope="module")
def dataset(mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dataset]:
    """The dataset, fetched from the mirror into a fresh home (loaded once for this module)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BRAINBENCH_HOME", str(tmp_path_factory.mktemp("home")))
        patch.delenv("BRAINBENCH_DATA_MIRROR", raising=False)
        yield load_dataset("kriegeskorte2008", mirrors=[mirror], allow_download=False)


@pytest.fixture(scope="module")
def supplement(mirror: Path) -> dict:
    return scipy.io.loadmat(mirror / FOLDER / SUPPLEMENT)


def group_rdm(supplement: dict, name: str) -> np.ndarray:
    records = {text(r["name"]): r for r in supplement["RDMs_mIT_hIT_fig1"].ravel()}
    return squareform(records[name]["RDM"].ravel())


def test_stimuli(dataset: Dataset, supplement: dict) -> None:
    stimuli = dataset.stimuli
    assert len(stimuli) == 92
    assert stimuli.stimulus_ids == [f"image{i:02d}" for i in range(1, 93)]
    images = list(stimuli.images())
    assert all(image.mode == "RGB" and image.size == (175, 175) for image in images)
    published = np.stack([r["image"] for r in supplement["stimuli_92objs"].ravel()])
    assert published.shape == (92, 175, 175, 3)
    assert np.array_equal(np.stack([np.asarray(image) for image in images]), published)


def test_categories(dataset: Dataset) -> None:
    counts = dataset.stimuli.metadata["category"].value_counts()
    assert sorted(counts.tolist(), reverse=True) == [23, 21, 12, 12, 12, 12]
    assert counts["natural inanimate"] == 23 and counts["artificial inanimate"] == 21
    assert {"human face", "nonhuman face", "human bodypart", "nonhuman bodypart"} <= set(counts.index)
    metadata = dataset.stimuli.metadata
    assert metadata["face"].sum() == 24 and metadata.loc[metadata["face"], "category"].str.endswith("face").all()


def test_assembly_shapes(dataset: Dataset) -> None:
    ids = dataset.stimuli.stimulus_ids
    expected = {
        "Kiani2007.IT": (("subject", "stimulus_a", "stimulus_b"), (1, 92, 92)),
        "Kriegeskorte2008.IT": (("subject", "session", "stimulus_a", "stimulus_b"), (4, 2, 92, 92)),
        "Mur2013.behavior": (("subject", "stimulus_a", "stimulus_b"), (16, 92, 92)),
    }
    assert set(dataset.assemblies) == set(expected)
    for name, (dims, shape) in expected.items():
        assembly = dataset.assemblies[name]
        assert assembly.dims == dims and assembly.shape == shape, name
        assert list(assembly["stimulus_a"].values) == ids == list(assembly["stimulus_b"].values)
        assert assembly.attrs["kind"] == "rdm"
        assert np.isfinite(assembly.values).all()
    human = dataset.assemblies["Kriegeskorte2008.IT"]
    assert list(human["subject"].values) == ["BE", "KO", "SN", "TI"]
    assert list(human["session"].values) == ["1", "2"]
    assert dataset.manifest.name == "kriegeskorte2008"


def test_kiani_rdm_is_the_published_vector(dataset: Dataset, supplement: dict) -> None:
    kiani = dataset.assemblies["Kiani2007.IT"].sel(subject="monkeys").values
    expected = group_rdm(supplement, "mIT_674neurons")
    assert expected.shape == (92, 92)
    np.testing.assert_array_equal(kiani, expected)
    np.testing.assert_array_equal(kiani, kiani.T)
    assert np.all(np.diag(kiani) == 0)


def test_human_rdms_are_the_published_matrices(dataset: Dataset, mirror: Path) -> None:
    brain = scipy.io.loadmat(mirror / FOLDER / "92_brainRDMs.mat")["RDMs"]
    human = dataset.assemblies["Kriegeskorte2008.IT"]
    seen = set()
    for s in range(brain.shape[1]):
        for k in range(brain.shape[2]):
            label, subject, session = (part.strip() for part in text(brain[0, s, k]["name"]).split("|"))
            assert label == "hIT"
            session = session.removeprefix("Session:").strip()
            np.testing.assert_array_equal(
                human.sel(subject=subject, session=session).values, brain[0, s, k]["RDM"].astype(np.float64)
            )
            seen.add((subject, session))
    assert len(seen) == 8


def test_judgement_rdms_are_the_published_matrices(dataset: Dataset, mirror: Path) -> None:
    behav = scipy.io.loadmat(mirror / FOLDER / "92_behavRDMs.mat")["rdms_behav_92"].ravel()
    judgements = dataset.assemblies["Mur2013.behavior"]
    assert list(judgements["subject"].values) == [f"subject{i}" for i in range(1, 17)]
    for record in behav:
        subject = text(record["name"]).split("|")[1].strip()
        np.testing.assert_array_equal(judgements.sel(subject=subject).values, record["RDM"])


def test_mean_human_rdm_matches_the_group_rdm(dataset: Dataset, supplement: dict) -> None:
    """The mirror README: the group hIT vector equals the mean of the 8 hIT RDMs to ρ = 1.0."""
    mean = dataset.assemblies["Kriegeskorte2008.IT"].mean(("subject", "session")).values
    group = group_rdm(supplement, "hITvisStim_316vx")
    upper = np.triu_indices(92, k=1)
    rho = spearmanr(mean[upper], group[upper]).statistic
    assert rho > 0.99999
    # and the monkey RDM is a different one (ρ well below 1): the loader did not mix the two up
    kiani = dataset.assemblies["Kiani2007.IT"].values[0]
    assert spearmanr(kiani[upper], group[upper]).statistic < 0.9


def test_load_from_the_mirror_variable(home: Path, mirror: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRAINBENCH_DATA_MIRROR", str(mirror))
    loaded = load_dataset("kriegeskorte2008", allow_download=False)
    assert len(loaded.stimuli) == 92
    assert sorted(p.name for p in (home / "data" / "kriegeskorte2008").iterdir()) == sorted(
        f.path for f in loaded.manifest.files
    )


def real_files(mirror: Path) -> dict[str, Path]:
    return {f.path: mirror / FOLDER / f.path for f in load_manifest("kriegeskorte2008").files}


@pytest.mark.parametrize("which", [SUPPLEMENT, "92_brainRDMs.mat", "92_behavRDMs.mat"])
def test_unreadable_file_is_a_data_error(mirror: Path, tmp_path: Path, which: str) -> None:
    garbage = tmp_path / which
    garbage.write_bytes(b"this is not a MATLAB file\x00\x01\x02" * 100)
    files = real_files(mirror) | {which: garbage}
    with pytest.raises(DataError, match=rf"Cannot read {which} as a MATLAB file.*re-fetch"):
        kriegeskorte2008.load(load_manifest("kriegeskorte2008"), files)


def test_truncated_file_is_a_data_error(mirror: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "92_brainRDMs.mat"
    truncated.write_bytes((mirror / FOLDER / "92_brainRDMs.mat").read_bytes()[:5000])
    with pytest.raises(DataError):
        kriegeskorte2008.load(load_manifest("kriegeskorte2008"), real_files(mirror) | {truncated.name: truncated})


def test_matlab_file_with_another_layout_is_a_data_error(mirror: Path, tmp_path: Path) -> None:
    other = tmp_path / "92_behavRDMs.mat"
    scipy.io.savemat(other, {"something_else": np.eye(3)})
    with pytest.raises(DataError, match="do not have the published layout"):
        kriegeskorte2008.load(load_manifest("kriegeskorte2008"), real_files(mirror) | {other.name: other})


def test_unknown_loader() -> None:
    assert get_loader("kriegeskorte2008") is kriegeskorte2008.load
    with pytest.raises(BrainbenchError, match="No loader named 'nope'"):
        get_loader("nope")
