"""A content-keyed, size-bounded, verified on-disk cache of per-layer reductions (Grams, RDMs, outputs, recordings).

``store``: the folder (entries, verification, least-recently-used eviction; light: no torch); ``keys``: what a key is
made of; ``cached``: a model session's reductions looked up, computed when missing, and stored.
"""
