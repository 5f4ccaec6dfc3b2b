"""The column-wise phase windows equal the one-patient rule on every kind of course history."""

import pandas as pd

from rechallenge.rules.adverse_events import AdverseEventSettings, phase_window, phase_windows

T = pd.Timestamp
CASES = [
    # initial start, initial last dose, rechallenge start, rechallenge last dose
    (T("2021-01-01"), T("2021-06-01"), T("2021-09-01"), T("2021-12-01")),
    (T("2021-01-01"), T("2021-06-01"), T("2021-06-20"), None),  # tail cut at rechallenge
    (T("2021-01-01"), None, T("2021-09-01"), T("2021-12-01")),  # initial ongoing until rechallenge
    (T("2021-01-01"), T("2021-06-01"), None, None),  # no rechallenge
    (T("2021-01-01"), None, None, None),  # ongoing, no rechallenge: open window
]


def test_column_wise_windows_match_the_single_patient_rule() -> None:
    settings = AdverseEventSettings(treatment_emergent_days=30)
    frame = pd.DataFrame(CASES, columns=["i0", "i1", "r0", "r1"]).assign(
        pid=[f"P{i}" for i in range(len(CASES))]
    )
    many = phase_windows(frame["pid"], frame["i0"], frame["i1"], frame["r0"], frame["r1"], settings)
    for pid, (i0, i1, r0, r1) in zip(frame["pid"], CASES, strict=True):
        assert many[pid] == phase_window(i0, i1, r0, r1, settings), pid
