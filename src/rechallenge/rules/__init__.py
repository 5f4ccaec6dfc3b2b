"""Clinical rules: ICI courses, RECIST 1.1, iRECIST, resistance, CTCAE grading, cohort selection."""
