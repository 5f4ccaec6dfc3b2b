"""The drug dictionary: free-text agent names -> canonical INN and therapy class.

Name normalisation follows the reference dictionary's rules, in order: Unicode NFKC,
lower case, trim, strip trade marks, doses, routes and bracketed text; exact alias
lookup (codes with or without hyphen or space); strip a US biologic suffix (`-xxxx`)
or "and hyaluronidase" and retry. Anything else is unmapped: never guessed, but the
closest known names are offered as a hint.
"""

from __future__ import annotations

import difflib
import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

#: Therapy classes the rest of the toolkit reasons with.
ANTI_PD1 = "anti_pd1"
ANTI_PDL1 = "anti_pdl1"
ANTI_CTLA4 = "anti_ctla4"
PD1_BISPECIFIC = "pd1_bispecific"
CHEMOTHERAPY = "chemotherapy"
ANTI_ANGIOGENIC = "anti_angiogenic"
TARGETED = "targeted"
OTHER = "other"
PD1_AXIS_CLASSES = frozenset({ANTI_PD1, ANTI_PDL1, PD1_BISPECIFIC})

_DOSE = re.compile(r"(\b\d+(\.\d+)?\s*(mg|g|mcg|µg|ug|mg/kg|mg/m2)\b|\bauc\s*\d).*$")
_ROUTE = re.compile(r"\b(iv|i\.v\.|sc|s\.c\.|po|p\.o\.|oral|intravenous|subcutaneous)\b")
_BRACKETS = re.compile(r"[\(\[（【].*?[\)\]）】]")
_US_SUFFIX = re.compile(r"-[a-z]{4}$")
_HYALURONIDASE = re.compile(r"\s+and hyaluronidase(-[a-z]{4})?$")


@dataclass(frozen=True)
class Drug:
    """One dictionary entry."""

    inn: str
    codes: tuple[str, ...]  # reference class codes, e.g. ("ICI_BISPECIFIC", "ANTIANGIO_MAB")
    atc: str | None
    formulation: str | None

    @property
    def classes(self) -> frozenset[str]:
        """The toolkit's therapy classes (an agent may carry several)."""
        return frozenset(_group(code) for code in self.codes)

    @property
    def pd1_axis(self) -> bool:
        """True for anti-PD-1, anti-PD-L1 and bispecifics with a PD-(L)1 arm."""
        return bool(self.classes & PD1_AXIS_CLASSES)


def _group(code: str) -> str:
    if code == "ICI_PD1":
        return ANTI_PD1
    if code == "ICI_PDL1":
        return ANTI_PDL1
    if code == "ICI_CTLA4":
        return ANTI_CTLA4
    if code == "ICI_BISPECIFIC":
        return PD1_BISPECIFIC
    if code.startswith("CHEMO_"):
        return CHEMOTHERAPY
    if code.startswith("ANTIANGIO_"):
        return ANTI_ANGIOGENIC
    if code.startswith("TARGETED_"):
        return TARGETED
    return OTHER


def normalise_name(name: str) -> str:
    """Step 1 of the reference rules: NFKC, lower case, no marks, doses, routes or brackets."""
    text = unicodedata.normalize("NFKC", name).lower().replace("®", "").replace("™", "")
    text = _BRACKETS.sub(" ", text)
    text = _DOSE.sub("", text)
    text = _ROUTE.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip(" .,")


def _compact(name: str) -> str:
    """Codes match with or without hyphen or space: `MK-3475` == `mk 3475` == `mk3475`."""
    return re.sub(r"[\s\-]", "", name)


@dataclass(frozen=True)
class DrugDictionary:
    """The versioned dictionary with its alias index."""

    version: str
    drugs: tuple[Drug, ...]
    index: dict[str, Drug]

    def lookup(self, name: str) -> Drug | None:
        """The entry for a free-text agent name, or None when unmapped (never guessed)."""
        key = normalise_name(name)
        for candidate in (key, _HYALURONIDASE.sub("", key), _US_SUFFIX.sub("", key)):
            hit = self.index.get(candidate) or self.index.get(_compact(candidate))
            if hit is not None:
                return hit
        return None

    def suggest(self, name: str, n: int = 3) -> list[str]:
        """The closest known names, offered to a person as a hint only."""
        key = normalise_name(name)
        names = sorted({k for k in self.index if not k.isascii() or len(k) > 3})
        close = difflib.get_close_matches(key, names, n=n * 2, cutoff=0.6)
        return list(dict.fromkeys(self.index[c].inn for c in close))[:n]


@cache
def load_dictionary() -> DrugDictionary:
    """The dictionary shipped with the package (data/drug_dictionary.json)."""
    raw = json.loads(
        resources.files("rechallenge.data").joinpath("drug_dictionary.json").read_text("utf-8")
    )
    drugs: list[Drug] = []
    index: dict[str, Drug] = {}
    for entry in raw["drugs"]:
        drug = Drug(entry["inn"], tuple(entry["classes"]), entry["atc"], entry["formulation"])
        drugs.append(drug)
        for name in (entry["inn"], *entry["aliases"]):
            key = normalise_name(name)
            index.setdefault(key, drug)
            index.setdefault(_compact(key), drug)
    return DrugDictionary(raw["version"], tuple(drugs), index)
