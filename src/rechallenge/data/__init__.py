"""Data layer: the study tables, reading them from CSV/Excel, validating them, the drug dictionary."""
