"""xarray assemblies in Brain-Score's vocabulary, and the dataset object loaders return."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import xarray as xr

from brainbench.data.manifest import Manifest
from brainbench.data.stimuli import StimulusSet

RDM_DIMS = ("stimulus_a", "stimulus_b")


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
