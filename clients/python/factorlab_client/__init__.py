"""FactorLab's HTTP API from Python: ``FactorLab(url, token)`` and its pandas helpers."""
from .client import FactorLab, FactorLabError

__all__ = ["FactorLab", "FactorLabError"]
__version__ = "1.1.0"
