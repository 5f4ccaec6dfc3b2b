"""Derivations: per-patient endpoints (PFS1, PFSR, OS) and ADaM-style analysis datasets."""
