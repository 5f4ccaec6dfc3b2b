"""The study protocol's analyses, assembled into the machine-readable results."""
