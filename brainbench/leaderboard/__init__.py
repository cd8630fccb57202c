"""The local leaderboard: score records, their append-only store, and the ranking."""

from brainbench.leaderboard.record import REGIONS, ScoreRecord
from brainbench.leaderboard.store import Leaderboard, RankedModel

__all__ = ["REGIONS", "Leaderboard", "RankedModel", "ScoreRecord"]
