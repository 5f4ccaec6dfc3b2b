"""Data layer: the study tables, reading CSV/Excel, validation, the drug dictionary."""
