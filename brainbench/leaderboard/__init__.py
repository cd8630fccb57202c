"""The local leaderboard: score records, their append-only store, and the ranking."""

from brainbench.leaderboard.identity import ModelEntry
from brainbench.leaderboard.ranking import RankedModel
from brainbench.leaderboard.record import REGIONS, ScoreRecord
from brainbench.leaderboard.store import Leaderboard

__all__ = ["REGIONS", "Leaderboard", "ModelEntry", "RankedModel", "ScoreRecord"]
