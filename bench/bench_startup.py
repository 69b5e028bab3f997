#!/usr/bin/env python3
"""Benchmark: `podspec --version` and `podspec --help` as whole processes (issue 13: --version within
150 ms), and a shell completion answer (`podspec diff --policy <TAB>` in bash's protocol).

    .venv/bin/python bench/bench_startup.py [--runs 21]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

PODSPEC = str(Path(sys.executable).parent / "podspec")


def median_ms(command: list[str], runs: int, env: dict[str, str] | None = None) -> tuple[float, float, float]:
    samples = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, env=env)
        samples.append((time.perf_counter() - began) * 1000)
    samples.sort()
    return statistics.median(samples), samples[0], samples[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=21)
    runs = parser.parse_args().runs
    completion = dict(os.environ, _PODSPEC_COMPLETE="complete_bash", COMP_WORDS="podspec diff --policy ", COMP_CWORD="3")
    rows = [
        ("python -c pass (the interpreter alone)", median_ms([sys.executable, "-c", "pass"], runs)),
        ("podspec --version", median_ms([PODSPEC, "--version"], runs)),
        ("podspec --help", median_ms([PODSPEC, "--help"], runs)),
        ("completion: podspec diff --policy <TAB>", median_ms([PODSPEC], runs, completion)),
    ]
    print(f"median of {runs} (min-max), whole processes")
    for label, (mid, low, high) in rows:
        print(f"  {label:<42} {mid:6.1f} ms  ({low:.1f}-{high:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
