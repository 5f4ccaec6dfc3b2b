"""The study protocol's analyses, assembled into the machine-readable results.

`protocol.analyse` runs them; one module per section, named for what it computes:
`cohort`, `baseline`, `efficacy`, `survival` (Kaplan-Meier, landmarks, log-rank,
follow-up), `regression` (Cox, Firth), `safety` (adverse events), `timelines`
(waterfall, swimmer), `quality` (data quality) and `methods` (the methods in words).
"""
