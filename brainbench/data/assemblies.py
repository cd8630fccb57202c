"""xarray assemblies in Brain-Score's vocabulary, and the dataset object loaders return."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from brainbench.data.manifest import Manifest
from brainbench.data.stimuli import StimulusSet
from brainbench.errors import DataError

RDM_DIMS = ("stimulus_a", "stimulus_b")
NEURAL_DIMS = ("presentation", "neuroid", "time_bin")  # Brain-Score's NeuroidAssembly: time_bin is optional


def check_neural_assembly(assembly: xr.DataArray, origin: str = "the assembly") -> None:
    """Raise DataError unless ``assembly`` is ``presentation × neuroid [× time_bin]`` with a
    ``stimulus_id`` coordinate along ``presentation`` and some coordinate along every other
    dimension (Brain-Score's NeuroidAssembly layout: e.g. ``neuroid_id``, ``time_bin_start``)."""
    missing = [d for d in NEURAL_DIMS[:2] if d not in assembly.dims]
    extra = [str(d) for d in assembly.dims if d not in NEURAL_DIMS]
    if missing or extra:
        problems = ([f"no {' or '.join(missing)} dimension"] if missing else []) + (
            [f"unexpected dimension(s) {', '.join(extra)}"] if extra else []
        )
        raise DataError(
            f"{origin} has dimensions ({', '.join(map(str, assembly.dims))}): {'; '.join(problems)}; "
            "a neural assembly needs presentation × neuroid (× time_bin)."
        )
    if "stimulus_id" not in assembly.coords or assembly["stimulus_id"].dims != ("presentation",):
        raise DataError(f"{origin} has no stimulus_id (or legacy image_id) coordinate along presentation.")
    for dim in assembly.dims:
        if not any(assembly[c].dims == (dim,) for c in assembly.coords):
            example = {"neuroid": " (e.g. neuroid_id)", "time_bin": " (e.g. time_bin_start)"}.get(str(dim), "")
            raise DataError(f"{origin} has no coordinate along its {dim} dimension{example}.")


def rdm_assembly(
    rdms: np.ndarray,
    stimulus_ids: Sequence[str],
    leading: dict[str, Sequence[str]],
    **attrs: object,
) -> xr.DataArray:
    """Label stacked RDMs: ``rdms`` has shape (*[len(v) for v in leading.values()], n, n).

    The stimulus dims are ``stimulus_a`` × ``stimulus_b`` (both indexed by ``stimulus_id`` values);
    leading dims name the measurement units (``subject``, ``session``, …).
    """
    rdms = np.asarray(rdms, dtype=np.float64)
    dims = (*leading, *RDM_DIMS)
    expected = (*(len(v) for v in leading.values()), len(stimulus_ids), len(stimulus_ids))
    if rdms.shape != expected:
        raise ValueError(f"RDM array of shape {rdms.shape} does not match labels {expected}")
    coords = {name: list(values) for name, values in leading.items()}
    coords |= {"stimulus_a": list(stimulus_ids), "stimulus_b": list(stimulus_ids)}
    return xr.DataArray(rdms, dims=dims, coords=coords, attrs={"kind": "rdm", **attrs})


@dataclass(frozen=True)
class Dataset:
    """A loaded dataset: its stimuli and its named assemblies (e.g. ``'Kiani2007.IT'``)."""

    manifest: Manifest
    stimuli: StimulusSet
    assemblies: dict[str, xr.DataArray] = field(default_factory=dict)
