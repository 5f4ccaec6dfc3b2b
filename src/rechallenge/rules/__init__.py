"""Clinical rules: ICI courses, RECIST 1.1, iRECIST, resistance definitions, CTCAE grading, cohort selection."""
