"""The refusal of a ceiling ≤ 0 is one sentence and nothing else on stderr, even when the raw score is undefined."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from brainbench.errors import BrainbenchError
from brainbench.metrics.ceiling import ceil


@pytest.mark.parametrize("raw", [float("nan"), np.array([np.nan, np.nan]), np.array([0.1, np.nan, 0.3])])
def test_refusal_with_undefined_raw_scores_warns_nothing(raw) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "Mean of empty slice" would be a second stderr line in the CLI
        with pytest.raises(BrainbenchError) as caught:
            ceil(raw, -0.1, "ratio", scored="Benchmark B")
    want = "nan" if np.isnan(raw).all() else "0.2"  # the mean of the defined values, as the sentence says
    assert f"raw = {want}. No score was recorded." in str(caught.value)
