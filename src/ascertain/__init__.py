"""ascertain: measured, reproducible evidence for generative-AI copyright cases."""

__version__ = "0.1.0"
