"""Figures drawn from computed results (matplotlib); they never recompute statistics."""
