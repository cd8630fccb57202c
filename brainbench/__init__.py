"""brainbench: how brain-like is this vision model?"""

__version__ = "0.1.0"
