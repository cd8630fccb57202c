"""What a leaderboard entry is a score of: a model as it was scored, and the labels that tell entries apart."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from brainbench.errors import BrainbenchError
from brainbench.leaderboard.record import ScoreRecord

#: Visual degrees assumed for records that do not say (brainbench's default field of view for every model).
ASSUMED_VISUAL_DEGREES = 8.0


@dataclass(frozen=True)
class ModelEntry:
    """Everything that changes what a scored model *is*; records of one entry are scores of the same thing.

    A model scored at 8° and at 10°, or on the default candidate layers and on layers the user chose,
    or with other input preprocessing, is a different entry: the leaderboard ranks them side by side and
    never lets one replace the other.
    """

    model: str
    weights_digest: str
    random_init: bool
    visual_degrees: float  # the model's field of view, degrees of visual angle
    layers: tuple[str, ...] | None  # candidate layers the user chose (--layers); None = the model's default set
    preprocessing_json: str | None  # the input preprocessing as canonical JSON; None = not recorded

    @classmethod
    def of(cls, record: ScoreRecord) -> ModelEntry:
        """The entry of ``record``, read from its top-level fields and ``details['model']``.

        Records written before these fields were recorded are taken to be what they most likely were:
        without ``visual_degrees``, the default 8°; without ``layers_given`` (every record before it was
        recorded), the model's default candidate layers; without ``preprocessing`` (only records written
        through the Python API without details), one shared "not recorded" preprocessing.
        """
        about = record.details.get("model")
        about = about if isinstance(about, dict) else {}
        degrees = about.get("visual_degrees")
        chosen = about.get("candidate_layers") if about.get("layers_given") else None
        preprocessing = about.get("preprocessing")
        return cls(
            model=record.model,
            weights_digest=record.weights_digest,
            random_init=bool(record.random_init),
            visual_degrees=float(degrees) if isinstance(degrees, int | float) else ASSUMED_VISUAL_DEGREES,
            layers=tuple(str(layer) for layer in chosen) if isinstance(chosen, list) else None,
            preprocessing_json=None if preprocessing is None else json.dumps(preprocessing, sort_keys=True),
        )

    @property
    def preprocessing(self) -> dict[str, Any] | None:
        """The recorded preprocessing (e.g. input_size, mean, std), or None when not recorded."""
        return None if self.preprocessing_json is None else json.loads(self.preprocessing_json)

    @property
    def base_label(self) -> str:
        """The model id, marked ' (random-init)' for randomly initialised weights."""
        return f"{self.model} (random-init)" if self.random_init else self.model


def labels(entries: Sequence[ModelEntry]) -> dict[ModelEntry, str]:
    """A distinct display label per entry: the model id, plus what differs among entries of that id.

    E.g. 'tinycnn (8°)' and 'tinycnn (10°)'; 'tinycnn' and 'tinycnn [layers: 3,5]'; 'tinycnn [input_size 96]';
    weights that differ are told apart by the first 12 hex digits of their digest.
    """
    groups: dict[str, list[ModelEntry]] = defaultdict(list)
    for entry in entries:
        groups[entry.base_label].append(entry)
    out = {}
    for base, group in groups.items():
        parts: list[Callable[[ModelEntry], str]] = []
        if len(group) > 1:
            if len({e.visual_degrees for e in group}) > 1:
                parts.append(lambda e: f" ({_number(e.visual_degrees)}°)")
            if len({e.layers for e in group}) > 1:
                parts.append(lambda e: "" if e.layers is None else f" [layers: {','.join(e.layers)}]")
            if len({e.preprocessing_json for e in group}) > 1:
                parts.append(_preprocessing_describer(group))
            if len({e.weights_digest for e in group}) > 1:
                parts.append(lambda e: f" [{e.weights_digest[:12]}]")
        for entry in group:
            out[entry] = base + "".join(part(entry) for part in parts)
    return out


def entries_of(name: str, entries: Sequence[ModelEntry]) -> list[ModelEntry]:
    """The entries ``name`` means, in label order: every entry of model id ``name`` (trained and random-init, any
    degrees, layers or preprocessing), else the one whose leaderboard label is ``name`` (e.g. 'tinycnn (10°)').

    BrainbenchError listing the leaderboard's models when neither matches.
    """
    names = labels(entries)
    chosen = [e for e in entries if e.model == name] or [e for e in entries if names[e] == name]
    if not chosen:
        known = sorted(set(names.values()))
        raise BrainbenchError(f"No model '{name}' on the leaderboard; "
                              + (f"its models: {', '.join(known)}." if known else "it holds no scores yet."))
    return sorted(chosen, key=lambda e: (names[e], e.weights_digest))


def _preprocessing_describer(group: list[ModelEntry]) -> Callable[[ModelEntry], str]:
    """Describes an entry's preprocessing by the settings that differ within ``group``."""
    settings = [e.preprocessing or {} for e in group]
    keys = sorted({key for s in settings for key in s})
    differing = [key for key in keys if len({json.dumps(s.get(key)) for s in settings}) > 1]

    def describe(entry: ModelEntry) -> str:
        if entry.preprocessing is None:
            return " [preprocessing not recorded]"
        values = [f"{key} {_value(entry.preprocessing.get(key))}" for key in differing]
        return f" [{'; '.join(values)}]"

    return describe


def _value(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(_value(v) for v in value)
    return _number(value) if isinstance(value, float) else str(value)


def _number(value: float) -> str:
    """Short when exact ('8', '10.5'), else every digit, so that two distinct values never print alike."""
    short = f"{value:g}"
    return short if float(short) == value else repr(value)
