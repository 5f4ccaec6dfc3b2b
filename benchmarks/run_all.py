"""Run every benchmark in turn (`make bench`); each writes its table to benchmarks/results/."""

from __future__ import annotations

import runpy
import sys

MODULES = (
    "benchmarks.bench_km_logrank",
    "benchmarks.bench_cox",
    "benchmarks.bench_busy",
    "benchmarks.bench_counting",
    "benchmarks.bench_pipeline",
    "benchmarks.bench_omop",
)


def main() -> None:
    """Run each benchmark module as a script with its default sizes."""
    for module in MODULES:
        print(f"== {module}", flush=True)
        sys.argv = [module]
        runpy.run_module(module, run_name="__main__")


if __name__ == "__main__":
    main()
