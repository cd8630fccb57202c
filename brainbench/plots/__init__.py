"""Figures (matplotlib, drawn off-screen, imported only when a figure is made): layer profiles, the ranking and
comparisons of models, each ready for a paper (labelled axes with units, colour-blind-safe, 300 dpi)."""

from brainbench.plots.comparison import plot_comparison
from brainbench.plots.layers import normalised_depth, plot_layer_profile, plot_layer_profiles
from brainbench.plots.ranking import plot_ranking

__all__ = ["normalised_depth", "plot_comparison", "plot_layer_profile", "plot_layer_profiles", "plot_ranking"]
