"""Loader for the Kriegeskorte et al. 2008 "92 images" files (MATLAB v5, as published with rsatoolbox)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io
from scipy.spatial.distance import squareform

from brainbench.data.assemblies import Dataset, rdm_assembly
from brainbench.data.manifest import Manifest
from brainbench.data.stimuli import in_memory_stimuli
from brainbench.errors import DataError

SUPPLEMENT = "Kriegeskorte_Neuron2008_supplementalData.mat"
BRAIN_RDMS = "92_brainRDMs.mat"
JUDGEMENT_RDMS = "92_behavRDMs.mat"
N_IMAGES = 92


def _loadmat(path: Path) -> dict:
    try:
        return scipy.io.loadmat(path)
    except Exception as exc:  # scipy raises several types for a damaged file
        raise DataError(f"Cannot read {path.name} as a MATLAB file ({exc}); re-fetch the dataset.") from exc


def _text(value: np.ndarray) -> str:
    return str(value.ravel()[0]) if value.size else ""


def _stimuli(supplement: dict) -> tuple[np.ndarray, pd.DataFrame]:
    records = supplement["stimuli_92objs"].ravel()
    images = np.stack([r["image"] for r in records]).astype(np.uint8)
    metadata = pd.DataFrame(
        {
            "stimulus_id": [f"image{i + 1:02d}" for i in range(len(records))],
            "category": [_text(r["category"]) for r in records],
            **{flag: [bool(r[flag].ravel()[0]) for r in records] for flag in ("human", "face", "animal", "natural")},
        }
    ).set_index("stimulus_id")
    return images, metadata


def load(manifest: Manifest, files: dict[str, Path]) -> Dataset:
    """Stimuli (92 RGB images, 175×175 px) and the RDM assemblies of this dataset.

    Assemblies (values are dissimilarities, 92 × 92 over ``stimulus_a`` × ``stimulus_b``):
    - ``Kiani2007.IT``: monkey IT, 674 neurons, one group RDM (``subject='monkeys'``);
    - ``Kriegeskorte2008.IT``: human IT fMRI, ``subject`` (BE, KO, SN, TI) × ``session`` (1, 2);
    - ``Mur2013.behavior``: similarity judgements, 16 ``subject``\\ s.
    """
    supplement = _loadmat(files[SUPPLEMENT])
    try:
        images, metadata = _stimuli(supplement)
        ids = list(metadata.index)
        group = {_text(r["name"]): squareform(r["RDM"].ravel(), checks=False) for r in
                 supplement["RDMs_mIT_hIT_fig1"].ravel()}
        monkey = group["mIT_674neurons"][None]

        brain = _loadmat(files[BRAIN_RDMS])["RDMs"]  # 1 × subject × session struct
        names = [[_text(brain[0, s, k]["name"]) for k in range(brain.shape[2])] for s in range(brain.shape[1])]
        subjects = [row[0].split("|")[1].strip() for row in names]
        human = np.stack([[brain[0, s, k]["RDM"] for k in range(brain.shape[2])] for s in range(brain.shape[1])])

        judgements_raw = _loadmat(files[JUDGEMENT_RDMS])["rdms_behav_92"].ravel()
        judgements = np.stack([r["RDM"] for r in judgements_raw])
        judges = [_text(r["name"]).split("|")[1].strip() for r in judgements_raw]
    except (KeyError, IndexError, ValueError) as exc:
        raise DataError(f"The {manifest.name} files do not have the published layout ({exc}).") from exc
    if len(ids) != N_IMAGES:
        raise DataError(f"Expected {N_IMAGES} images in {SUPPLEMENT}, found {len(ids)}.")

    assemblies = {
        "Kiani2007.IT": rdm_assembly(
            monkey, ids, {"subject": ["monkeys"]}, region="IT", species="macaque",
            measurement="single units (674 neurons, 2 monkeys)", distance="1 - Pearson r",
        ),
        "Kriegeskorte2008.IT": rdm_assembly(
            human, ids, {"subject": subjects, "session": ["1", "2"]}, region="IT", species="human",
            measurement="fMRI (316 most visually responsive voxels)", distance="1 - Pearson r",
        ),
        "Mur2013.behavior": rdm_assembly(
            judgements, ids, {"subject": judges}, region="behavior", species="human",
            measurement="similarity judgements (multi-arrangement)", distance="judged dissimilarity",
        ),
    }
    stimuli = in_memory_stimuli("Kriegeskorte2008.92images", images, metadata)
    return Dataset(manifest=manifest, stimuli=stimuli, assemblies=assemblies)
