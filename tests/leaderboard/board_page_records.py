"""Score records for the HTML leaderboard's tests: five models over the five regions, with a tie, a missing region,
a benchmark without a ceiling, one without an error, a random-init twin and a model id that is an HTML script."""

from __future__ import annotations

from brainbench.leaderboard import ScoreRecord

HOSTILE_MODEL = "<script>alert(1)</script>"
HOSTILE_LAYER = '"><img src=x onerror=alert(2)>'
BENCHMARKS = {  # id -> (region, ceiling)
    "Marques2020.V1-properties": ("V1", 0.9),
    "Freeman2013.V2-pls": ("V2", 0.7),
    "Majaj2015.V4-pls": ("V4", 0.8),
    "Majaj2015.IT-pls": ("IT", 0.8),
    "Rajalingham2018.behavior-i2n": ("behavior", 0.5),
    "Kiani2007.IT-rsa": ("IT", None),  # no ceiling: shown, not averaged
}
#: model id -> {benchmark: ceiled score}; "alexnet" and "vgg16" have the same scores (a tie), "tinycnn" lacks V2.
SCORES = {
    "resnet50": {"Marques2020.V1-properties": 0.62, "Freeman2013.V2-pls": 0.41, "Majaj2015.V4-pls": 0.58,
                 "Majaj2015.IT-pls": 0.55, "Rajalingham2018.behavior-i2n": 0.48, "Kiani2007.IT-rsa": 0.21},
    "alexnet": {"Marques2020.V1-properties": 0.55, "Freeman2013.V2-pls": 0.35, "Majaj2015.V4-pls": 0.52,
                "Majaj2015.IT-pls": 0.47, "Rajalingham2018.behavior-i2n": 0.30},
    "vgg16": {"Marques2020.V1-properties": 0.55, "Freeman2013.V2-pls": 0.35, "Majaj2015.V4-pls": 0.52,
              "Majaj2015.IT-pls": 0.47, "Rajalingham2018.behavior-i2n": 0.30},
    "tinycnn": {"Marques2020.V1-properties": 0.70, "Majaj2015.V4-pls": 0.20, "Majaj2015.IT-pls": 0.10,
                "Rajalingham2018.behavior-i2n": 0.05, "Kiani2007.IT-rsa": 0.35},
    HOSTILE_MODEL: {"Marques2020.V1-properties": 0.12, "Majaj2015.IT-pls": 0.09},
}


def record(model: str, benchmark: str, ceiled: float, random_init: bool = False, seed: int = 0) -> ScoreRecord:
    region, ceiling = BENCHMARKS[benchmark]
    return ScoreRecord(
        model=model, weights_digest=("cd" if random_init else "ab") * 32, random_init=random_init,
        benchmark=benchmark, benchmark_version=2, region=region, raw=ceiled * (ceiling or 1.0), ceiling=ceiling,
        ceiled=ceiled, error=None if benchmark.startswith("Freeman") else 0.02 + ceiled / 20,
        layer=HOSTILE_LAYER if model == HOSTILE_MODEL else "layer4.1.relu", brainbench_version="0.1.0", seed=seed,
        device="cpu", started_at="2026-12-01T10:00:00+00:00", finished_at="2026-12-01T10:03:07+00:00",
    )


def board_records() -> list[ScoreRecord]:
    """The records of :data:`SCORES`, plus resnet50's random-init twin on two benchmarks."""
    records = [record(model, b, s) for model, scores in SCORES.items() for b, s in scores.items()]
    records += [record("resnet50", "Majaj2015.IT-pls", 0.04, random_init=True, seed=1),
                record("resnet50", "Marques2020.V1-properties", 0.15, random_init=True, seed=1)]
    return records
