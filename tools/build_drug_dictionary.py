"""Build `src/rechallenge/data/drug_dictionary.json` from the reference drug dictionary (Markdown).

Run when the reference changes:
`python tools/build_drug_dictionary.py PATH/drug-dictionary.md`.
The JSON is the versioned package data; this script records how it was produced.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "src/rechallenge/data/drug_dictionary.json"
VERSION = "2026.11"
NOISE = re.compile(
    r"^(former name|biosimilars e\.g\.|e\.g\.|in opdualag.*|→.*|map to.*|all map to.*)\s*", re.I
)
REGIONS = {"sc", "cn", "jp/cn", "eu", "us", "jp", "ru"}
CODE = re.compile(r"`([A-Z0-9_]+)`")


def _norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower()


def _aliases(cell: str) -> list[str]:
    """Split an alias cell into names: brands, codes, Chinese names, bracketed alternatives."""
    cell = re.sub(r"→.*$", "", cell)
    names: list[str] = []
    for part in re.split(r";|,(?![^(]*\))(?!\d)", cell):
        part = NOISE.sub("", part.strip())
        inner = re.findall(r"\(([^)]*)\)", part)
        outer = re.sub(r"\([^)]*\)", "", part).strip()
        for name in [outer, *inner]:
            name = name.strip(" .")
            if not name or len(name) > 40 or " with " in name or name.lower() in REGIONS:
                continue
            if re.search(r"\b(rare|not an|oncology|fibrosis|exon|withdrawn|antibody)\b", name):
                continue
            names.append(name)
    return names


def _rows(markdown: str) -> list[tuple[str, list[str]]]:
    """(section heading, cells) for each table row of the sections listing drugs."""
    rows, section = [], ""
    for line in markdown.splitlines():
        if line.startswith("#"):
            section = line.strip("# ").strip()
        elif line.startswith("|") and not set(line) <= set("|-: "):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if cells[0] in {"INN", "Class code"}:
                continue
            rows.append((section, cells))
    return rows


SECTION_CLASS = {"2.1": ["ICI_PD1"], "2.2": ["ICI_PDL1"], "2.3": ["ICI_CTLA4"]}


FIXES: dict[str, dict[str, object]] = {
    # parser limits: rows listing several INNs or free-text notes in the alias cell
    "furmonertinib": {"aliases": ["firmonertinib", "alflutinib", "ast2818", "伏美替尼", "艾弗沙"]},
    "garsorasib": {"aliases": ["d-1553"]},
    "fulzerasib": {"aliases": ["gfh925"]},
    "glecirasib": {"aliases": ["jab-21822"]},
    "pyrotinib": {"aliases": ["shr-1258", "艾瑞妮"]},
    "lurbinectedin": {"aliases": ["zepzelca"]},
    "s-1": {"atc": "L01BC53", "aliases": ["tegafur/gimeracil/oteracil", "ts-1", "替吉奥"]},
    # Ofev is nintedanib for lung fibrosis, not an anti-cancer therapy (reference §6 rule 6)
    "nintedanib": {"aliases": ["bibf 1120", "vargatef", "尼达尼布"]},
}


def _split_alternatives(aliases: list[str]) -> list[str]:
    """`lorbrena / lorviqua` and `byvasda, ibi305` name two brands each."""
    return [
        part.strip() for alias in aliases for part in re.split(r" / |, ", alias) if part.strip()
    ]


def build(markdown: str) -> dict[str, object]:
    """Parse every drug row into {inn, classes, aliases, atc}."""
    drugs = []
    for section, cells in _rows(markdown):
        number = section.split()[0].rstrip(".")
        if not re.match(r"^[2-5](\.\d)?$", number):
            continue
        inn_cell = cells[0].replace("**", "")
        inn_cell = re.sub(r"\[.*?\]", "", inn_cell).strip()
        codes = CODE.findall(" ".join(cells[1:]))
        classes = SECTION_CLASS.get(number, codes)
        if number.startswith("2.4"):
            alias_cell, atc = cells[2], cells[4]
        elif number in SECTION_CLASS:
            alias_cell, atc = cells[1], cells[2]
        elif number.startswith("3") or number.startswith("5"):
            alias_cell, atc = cells[2], cells[3]
        else:  # anti-angiogenic
            alias_cell, atc = cells[2], cells[3]
        formulation = None
        if inn_cell.startswith("nab-paclitaxel"):
            formulation, aliases = "nab", ["nab-paclitaxel", *_aliases(alias_cell)]
            inn_cell = "paclitaxel"
        elif inn_cell.startswith("paclitaxel liposome"):
            formulation, aliases = "liposomal or micellar", ["paclitaxel liposome"]
            aliases += [
                "paclitaxel polymeric micelle",
                "紫杉醇脂质体",
                "Lipusu",
                "紫杉醇聚合物胶束",
            ]
            inn_cell = "paclitaxel"
        else:
            aliases = _aliases(alias_cell)
        names = [n.strip() for n in re.split(r",(?![^(]*\))", inn_cell)]
        for name in names:
            inn = re.sub(r"\(.*?\)", "", name).strip()
            extra = re.findall(r"\(([^)]*)\)", name)
            extra = [e.strip() for part in extra for e in part.split(",")]
            drugs.append(
                {
                    "inn": _norm(inn),
                    "classes": classes,
                    "aliases": sorted(
                        {_norm(a) for a in _split_alternatives([*aliases, *extra])} - {_norm(inn)}
                    ),
                    "atc": None if atc.strip() in {"—", "-"} else atc.strip(),
                    "formulation": formulation,
                }
            )
    for drug in drugs:
        drug.update(FIXES.get(str(drug["inn"]), {}))
    return {
        "version": VERSION,
        "source": "shared reference drug-dictionary.md (ATC-DE 2024 and a WHO-ATC drug library)",
        "class_groups": {
            "ICI_PD1": "anti_pd1",
            "ICI_PDL1": "anti_pdl1",
            "ICI_CTLA4": "anti_ctla4",
            "ICI_BISPECIFIC": "pd1_bispecific",
            "ICI_OTHER": "other",
        },
        "drugs": drugs,
    }


if __name__ == "__main__":
    data = build(Path(sys.argv[1]).read_text(encoding="utf-8"))
    OUT.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"{len(data['drugs'])} drugs written to {OUT}")  # type: ignore[arg-type]
