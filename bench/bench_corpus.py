"""How podspec does on a directory of real manifests (issue 12's held-out measure).

    .venv/bin/python bench/bench_corpus.py DIR [--verbose]

For every *.yaml / *.yml file under DIR:
- is it valid Kubernetes? (kubernetes-validate, strict, the newest schema it ships; every document);
- does podspec accept it under `--policy privileged` (the loader alone: no policy checks)? With
  --beside, the file is read together with the files of its directory that hold only ConfigMap,
  Secret or PersistentVolumeClaim documents (the documents beside it, as `podspec validate DIR`
  reads them), and only problems in the file itself count;
- did podspec crash (anything but a ManifestError)?

Then the whole directory is validated in one call of the real command,
`podspec validate --policy privileged DIR`, in a fresh interpreter, three times; the median is
reported (that call's exit code does not matter: files that clash, e.g. two pods named nginx, are
problems, and the timing covers reading and checking every file).

Prints the share of Kubernetes-valid files podspec accepts (target: 90 %), the crashes (target:
none), the one-call time (target: under 2 s), and with --verbose the first problem of each
Kubernetes-valid file podspec refuses. Exit 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import traceback
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def kubernetes_valid(path: Path) -> bool:
    import kubernetes_validate
    from kubernetes_validate import utils

    version = utils.latest_version()
    try:
        documents = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    except (yaml.YAMLError, UnicodeDecodeError):
        return False
    if not documents:
        return False
    for document in documents:
        try:
            kubernetes_validate.validate(document, version, strict=True)
        except Exception:  # any refusal (or an unknown kind) is "not valid"
            return False
    return True


BESIDE_KINDS = {"ConfigMap", "Secret", "PersistentVolumeClaim"}


def only_beside_kinds(path: Path) -> bool:
    """Whether every document of the file is a ConfigMap, Secret or PersistentVolumeClaim."""
    try:
        documents = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    except (yaml.YAMLError, UnicodeDecodeError):
        return False
    return bool(documents) and all(isinstance(d, dict) and d.get("kind") in BESIDE_KINDS for d in documents)


def podspec_verdict(path: Path, beside: tuple[Path, ...] = ()) -> tuple[str, str]:
    """("accepted" | "refused" | "crashed", first problem or traceback)."""
    from podspec.errors import ManifestError
    from podspec.loader import load

    try:
        # As `podspec validate` loads: a ConfigMap or Secret no file given defines is a warning.
        load([str(path), *(str(p) for p in beside if p != path)], defined_elsewhere=True)
    except ManifestError as error:
        own = [p for p in error.problems if p.origin.file == str(path)]
        if not own:
            return "accepted", ""
        return "refused", str(own[0])
    except Exception:  # the point is to find crashes
        return "crashed", traceback.format_exc(limit=3)
    return "accepted", ""


PENDING = "ConfigMap, Secret, Deployment or Job (another branch)"


def cause(problem: str) -> str:
    """A short name for why a file was refused, from its first problem."""
    if any(w in problem for w in ('kind "ConfigMap"', 'kind "Secret"', 'apiVersion "apps/v1"', 'apiVersion "batch/v1"',
                                  "ConfigMap and Secret are not supported")):
        return PENDING
    if "is cluster storage" in problem:
        return "cluster storage (azureDisk, cephfs, nfs, ...)"
    if "sidecar init containers" in problem:
        return "sidecar init containers"
    if "Podman runs one health check" in problem:
        return "probes that differ (one Podman health check)"
    if "unsupported kind" in problem and "supported kinds:" in problem and "write it as" in problem:
        return "workload kinds podspec does not run (StatefulSet, DaemonSet, CronJob, ...)"
    if "must be an image reference" in problem:
        return "placeholders where a value belongs (<PROJECT_ID>, <DOCKER_REPO>, ...)"
    if "does not support" in problem or "is not supported" in problem:
        return "other Kubernetes fields Podman cannot honour"
    return "errors in the file (invalid for a Kubernetes API server too)"


def one_call_seconds(directory: Path, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "podspec", "validate", "--policy", "privileged", str(directory)],
            cwd=ROOT, capture_output=True, check=False,
        )
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--beside", action="store_true", help="read each file with the ConfigMap, Secret and "
                        "PersistentVolumeClaim files of its directory")
    args = parser.parse_args()
    files = sorted(p for p in args.directory.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    context = {p.parent: tuple(q for q in files if q.parent == p.parent and only_beside_kinds(q)) for p in files}
    rows = [(p, kubernetes_valid(p), *podspec_verdict(p, context[p.parent] if args.beside else ())) for p in files]
    valid = [r for r in rows if r[1]]
    accepted_valid = [r for r in valid if r[2] == "accepted"]
    crashed = [r for r in rows if r[2] == "crashed"]
    seconds = one_call_seconds(args.directory)
    share = len(accepted_valid) / len(valid) if valid else 0.0
    print(f"files: {len(rows)}; Kubernetes-valid: {len(valid)}; accepted (any): "
          f"{sum(r[2] == 'accepted' for r in rows)}")
    print(f"Kubernetes-valid files accepted with --policy privileged: {len(accepted_valid)}/{len(valid)} = {share:.0%} "
          "(target 90%)")
    print(f"crashes: {len(crashed)} (target 0)")
    print(f"`podspec validate --policy privileged DIR` in one call: {seconds:.2f}s, median of 3 (target < 2s)")
    for path, _, _, detail in crashed:
        print(f"CRASH {path}:\n{detail}")
    causes: dict[str, int] = {}
    for _, _, verdict, detail in valid:
        if verdict == "refused":
            causes[cause(detail)] = causes.get(cause(detail), 0) + 1
    for name, count in sorted(causes.items(), key=lambda item: (-item[1], item[0])):
        print(f"  refused, {name}: {count}")
    pending = causes.get(PENDING, 0)
    if pending:
        rest = len(valid) - pending
        print(f"without the files that need {PENDING}: {len(accepted_valid)}/{rest} = "
              f"{len(accepted_valid) / rest if rest else 0:.0%}")
    if args.verbose:
        for path, _, verdict, detail in valid:
            if verdict == "refused":
                print(f"refused {path.relative_to(args.directory)}: {detail.splitlines()[0]}")
    return 0 if share >= 0.9 and not crashed and seconds < 2 else 1


if __name__ == "__main__":
    sys.exit(main())
