"""Where the pipeline finds the protocol's analyses (see `rechallenge.analysis.protocol`)."""

from __future__ import annotations

from rechallenge.analysis.protocol import AnalysisInputs, analyse

__all__ = ["AnalysisInputs", "analyse"]
