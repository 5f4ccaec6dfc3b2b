"""Are two runs' results the same? Byte comparison of results.json and the ADaM datasets.

Used to check that a speed change leaves every number as it was::

    rechallenge run examples/seed_cohort --out /tmp/before     # on the old commit
    rechallenge run examples/seed_cohort --out /tmp/after      # on the new one
    .venv/bin/python -m benchmarks.same_results /tmp/before /tmp/after

The same works for a synthetic cohort (`benchmarks.synthetic_cohort`, one folder written
once and run twice). results.json holds no timing fields (stage times go to run.log only),
so it is compared whole. Exit status 0 when every file is identical, 1 otherwise.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

COMPARED = (
    "results.json",
    "datasets/adsl.csv",
    "datasets/adrs.csv",
    "datasets/adtte.csv",
    "datasets/adae.csv",
)


def differing(before: Path, after: Path) -> list[str]:
    """The compared files that differ (or exist in one folder only)."""
    out = []
    for name in COMPARED:
        a, b = before / name, after / name
        if not a.exists() and not b.exists():
            continue
        if not (a.exists() and b.exists()) or a.read_bytes() != b.read_bytes():
            out.append(name)
    return out


def main() -> None:
    """Command line: print what differs; exit 1 if anything does."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    if not (args.before / "results.json").exists():
        sys.exit(f"no results.json in {args.before}")
    changed = differing(args.before, args.after)
    for name in changed:
        print(f"differs: {name}")
    print("identical" if not changed else f"{len(changed)} file(s) differ")
    sys.exit(1 if changed else 0)


if __name__ == "__main__":
    main()
