"""The drug dictionary: names map to classes by the reference rules, never by guessing."""

import pytest

from rechallenge.data.drugs import load_dictionary, normalise_name


@pytest.mark.parametrize(
    ("name", "inn", "classes"),
    [
        ("Keytruda", "pembrolizumab", {"anti_pd1"}),
        ("MK-3475", "pembrolizumab", {"anti_pd1"}),
        ("mk 3475", "pembrolizumab", {"anti_pd1"}),  # codes match without hyphen
        ("toripalimab-tpzi", "toripalimab", {"anti_pd1"}),  # US biologic suffix
        ("Nivolumab and hyaluronidase-nvhy", "nivolumab", {"anti_pd1"}),
        ("信迪利单抗", "sintilimab", {"anti_pd1"}),  # Chinese generic name
        ("Tecentriq", "atezolizumab", {"anti_pdl1"}),
        ("Imjudo", "tremelimumab", {"anti_ctla4"}),
        ("ivonescimab", "ivonescimab", {"pd1_bispecific", "anti_angiogenic"}),
        ("Carboplatin AUC5", "carboplatin", {"chemotherapy"}),  # dose stripped
        ("Pembrolizumab 200 mg IV", "pembrolizumab", {"anti_pd1"}),
        ("nab-paclitaxel", "paclitaxel", {"chemotherapy"}),
        ("Avastin", "bevacizumab", {"anti_angiogenic"}),
        ("osimertinib", "osimertinib", {"targeted"}),
    ],
)
def test_names_map_to_inn_and_class(name: str, inn: str, classes: set[str]) -> None:
    drug = load_dictionary().lookup(name)
    assert drug is not None
    assert drug.inn == inn
    assert drug.classes == classes


@pytest.mark.parametrize("name", ["pembro", "pembrolizumb", "Ofev", "vitamin C"])
def test_unknown_names_are_not_guessed(name: str) -> None:
    assert load_dictionary().lookup(name) is None


def test_suggestions_are_offered_for_misspellings() -> None:
    assert load_dictionary().suggest("pembrolizumb")[0] == "pembrolizumab"


def test_pd1_axis_flag() -> None:
    lookup = load_dictionary().lookup
    assert lookup("sintilimab").pd1_axis  # type: ignore[union-attr]
    assert lookup("durvalumab").pd1_axis  # type: ignore[union-attr]
    assert not lookup("ipilimumab").pd1_axis  # type: ignore[union-attr]


def test_normalisation() -> None:
    assert normalise_name("  Keytruda® (pembrolizumab) ") == "keytruda"
