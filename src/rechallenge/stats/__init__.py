"""Statistics: arrays in, immutable results out, nothing clinical (KM, log-rank, Cox)."""
