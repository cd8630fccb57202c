"""A lab's own files for the authoring tests, made from the mirror: the 92 images as PNG files with a CSV (as a lab
would keep them), and the paths of the mirror's RDM and Cowley2023 files treated as the lab's recordings."""

from __future__ import annotations

import csv
from pathlib import Path

KRIEGESKORTE = "kriegeskorte2008_92images"
BRAIN_RDMS = f"{KRIEGESKORTE}/92_brainRDMs.mat"
# The human IT RDMs: a 1 × 4 × 2 struct array (group × subject × session) of 92 × 92 matrices in field RDM.
BRAIN_RDMS_VARIABLE = "RDMs.RDM"
BRAIN_RDMS_DIMS = "group,subject,session,stimulus,stimulus"
COWLEY = "cowley2023_v4"


def write_92_images(mirror: Path, folder: Path) -> tuple[Path, Path]:
    """``folder/images/imageNN.png`` (lossless) and ``folder/stimuli.csv`` (stimulus_id, filename, category), in the
    built-in dataset's order; returns (images folder, CSV)."""
    from brainbench.data import load_dataset

    dataset = load_dataset("kriegeskorte2008", [mirror], allow_download=False)
    images = folder / "images"
    images.mkdir(parents=True)
    table = folder / "stimuli.csv"
    with table.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["stimulus_id", "filename", "category"])
        for stimulus_id, image in zip(dataset.stimuli.stimulus_ids, dataset.stimuli.images(), strict=True):
            image.save(images / f"{stimulus_id}.png")
            writer.writerow([stimulus_id, f"{stimulus_id}.png", dataset.stimuli.metadata.loc[stimulus_id, "category"]])
    return images, table


def cowley_session(mirror: Path, session: str) -> tuple[Path, Path]:
    """(image zip, responses) of one Cowley2023 session: 210325's single trials (neuroid × stimulus × repetition
    slot, NaN-padded), 210225's repeat averages (neuroid × stimulus)."""
    folder = mirror / COWLEY
    responses = "responses_raw" if session == "210325" else "responses_repeat_averaged"
    return folder / "images" / f"images_{session}.zip", folder / responses / f"responses_{session}.npy"
