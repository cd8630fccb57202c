"""The V1 property histograms ship inside brainbench: they load with no cache, mirror or network."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from brainbench.data import fetch, load_dataset
from brainbench.data.manifest import load_manifest
from brainbench.errors import DataError
from tests.conftest import MIRROR

MIRROR_JSON = MIRROR / "marques2020_v1_property_histograms" / "v1_property_histograms.json"
PROPERTIES = {
    "DeValois1982a": ["preferred_orientation"],
    "DeValois1982b": ["peak_spatial_frequency"],
    "Schiller1976c": ["spatial_frequency_selective", "spatial_frequency_bandwidth"],
    "Cavanaugh2002a": ["surround_suppression_index", "strongly_suppressed", "grating_summation_field",
                       "surround_diameter", "surround_grating_summation_field_ratio"],
}


def test_loads_offline_without_mirror_or_cache(home: Path) -> None:
    fetched = fetch.fetch_dataset("marques2020", mirrors=[], allow_download=False)
    assert {f.origin for f in fetched.values()} == {"embedded"}
    assert not (home / "data").exists() or not any((home / "data").rglob("*.json"))  # nothing copied
    dataset = load_dataset("marques2020", mirrors=[], allow_download=False)
    expected = {f"{study}.{name}" for study, names in PROPERTIES.items() for name in names}
    assert set(dataset.assemblies) == expected
    pref = dataset.assemblies["DeValois1982a.preferred_orientation"]
    assert pref.values.tolist() == [110, 83, 100, 92] and pref.attrs["scale"] == "linear"
    assert pref["bin_lower"].values.tolist() == [-22.5, 22.5, 67.5, 112.5]
    assert len(dataset.stimuli) == 1 + 3528 + 1152 + 2112 + 2304


@pytest.mark.skipif(not MIRROR_JSON.is_file(), reason="the offline mirror has no marques2020 histograms")
def test_embedded_numbers_equal_the_published_mirror_file(home: Path) -> None:
    published = json.loads(MIRROR_JSON.read_text())
    dataset = load_dataset("marques2020", mirrors=[])
    for study, names in PROPERTIES.items():
        for name in names:
            histogram = dataset.assemblies[f"{study}.{name}"]
            edges = np.append(histogram["bin_lower"].values, histogram["bin_upper"].values[-1])
            assert histogram.values.tolist() == published[study][name]["hist"], name
            assert edges.tolist() == published[study][name]["bins"], name
            assert histogram.attrs["scale"] == published[study][name]["scale"], name


def test_altered_embedded_file_is_refused(home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = tmp_path / "embedded"
    shutil.copytree(fetch.EMBEDDED, copy)
    target = copy / "marques2020" / "v1_properties.json"
    raw = json.loads(target.read_text())
    raw["properties"]["preferred_orientation"]["counts"][0] += 1
    target.write_text(json.dumps(raw, indent=1))
    monkeypatch.setattr(fetch, "EMBEDDED", copy)
    with pytest.raises(DataError, match=r"embedded file marques2020/v1_properties\.json is missing or altered"):
        fetch.fetch_dataset(load_manifest("marques2020"), mirrors=[])


def test_data_verify_reports_embedded_file(cli) -> None:
    result = cli("data", "verify", "marques2020")
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "marques2020/v1_properties.json: ok (embedded in brainbench)"
