"""Comparing models' scores: paired tests of differences on the same benchmarks, splits and units."""
