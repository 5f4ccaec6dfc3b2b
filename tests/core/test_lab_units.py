"""Every lab unit the validator accepts is one the CTCAE engine converts (the lists agree)."""

import pytest

from rechallenge.data.schema import LAB_UNITS
from rechallenge.rules.ctcae import grade_value

CASES = [(test, unit) for test, units in LAB_UNITS.items() for unit in units]


@pytest.mark.parametrize(("test", "unit"), CASES)
def test_accepted_unit_is_graded(test: str, unit: str) -> None:
    graded = grade_value(test, 1.0, unit, sex="male")
    assert graded.grade is not None
