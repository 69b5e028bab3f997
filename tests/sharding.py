"""Splitting one engine's tests into shards that run side by side (scripts/test.sh), by file.

With PODSPEC_TEST_SHARD=I/N (1 <= I <= N), a pytest run keeps only the test files of shard I: the
selected files, heaviest first, each go to the shard with the least work so far (ties: the lowest
number), weighed by the seconds recorded in tests/durations.json for the engine. The split is by file,
so a module-scoped fixture is never built twice; it is deterministic, so every shard of one command
computes the same split from the same selection. A file missing from the record weighs its number of
tests times a default (a few seconds for a Podman test, a few milliseconds for a unit test), so new
tests are spread too; refresh the record now and then (docs/development.md):

    PODSPEC_TEST_DURATIONS_OUT=DIR scripts/test.sh ...      each run writes DIR/<engine>-<shard>.json
    .venv/bin/python -m tests.sharding merge DIR/*.json > tests/durations.json

Pure functions over file names and seconds (no pytest here), so the split is unit-tested.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

RECORD = Path(__file__).resolve().parent / "durations.json"

# Seconds per test for a file the record does not know yet.
DEFAULT_PODMAN_TEST = 4.0
DEFAULT_UNIT_TEST = 0.01


def parse_shard(value: str) -> tuple[int, int]:
    """'2/3' -> (2, 3); a clear error for anything else."""
    try:
        index_text, count_text = value.split("/")
        index, count = int(index_text), int(count_text)
    except ValueError:
        raise ValueError(f"PODSPEC_TEST_SHARD={value!r}: expected I/N, e.g. 1/2") from None
    if not 1 <= index <= count:
        raise ValueError(f"PODSPEC_TEST_SHARD={value!r}: I must be between 1 and N")
    return index, count


def split(weights: Mapping[str, float], count: int) -> list[list[str]]:
    """The files in `count` shards: heaviest first, each to the lightest shard so far (longest
    processing time first), deterministic for equal weights (by name, then lowest shard)."""
    shards: list[list[str]] = [[] for _ in range(count)]
    loads = [0.0] * count
    for name in sorted(weights, key=lambda n: (-weights[n], n)):
        lightest = min(range(count), key=lambda i: (loads[i], i))
        shards[lightest].append(name)
        loads[lightest] += weights[name]
    return shards


def weights(tests_per_file: Mapping[str, tuple[int, bool]], recorded: Mapping[str, float]) -> dict[str, float]:
    """Each file's weight: its recorded seconds, or its number of tests times the default
    (tests_per_file: file -> (number of tests selected, whether they use Podman))."""
    out = {}
    for name, (tests, uses_podman) in tests_per_file.items():
        default = DEFAULT_PODMAN_TEST if uses_podman else DEFAULT_UNIT_TEST
        out[name] = recorded.get(name, tests * default)
    return out


def load_record(engine: str, path: Path = RECORD) -> dict[str, float]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    return {str(k): float(v) for k, v in data.get(engine, {}).items()}


def merge(files: Iterable[Path]) -> dict[str, dict[str, float]]:
    """Per-run records ({"engine": E, "files": {file: seconds}}) -> {engine: {file: seconds}}; a file
    seen in several runs of one engine (a separate run of it beside the shards) keeps its longest."""
    out: dict[str, dict[str, float]] = {}
    for path in files:
        run = json.loads(path.read_text())
        per_engine = out.setdefault(run["engine"], {})
        for name, seconds in run["files"].items():
            per_engine[name] = max(per_engine.get(name, 0.0), round(seconds, 1))
    return {engine: dict(sorted(files.items())) for engine, files in sorted(out.items())}


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] != "merge":
        print("usage: python -m tests.sharding merge RUN.json... > tests/durations.json", file=sys.stderr)
        return 2
    json.dump(merge(Path(a) for a in argv[1:]), sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
