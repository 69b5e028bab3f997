"""What a no-op `podspec diff` imports at start-up (bench/README.md, issue 29: the features of the
round may cost the 30-pod no-op diff at most 10%). Most of a no-op diff's CPU is the definition of
classes at import: the modules below are imported only by the commands, or the pods, that need them.
Not a timing: which modules the diff's own modules pull in."""

from __future__ import annotations

import subprocess
import sys

# What `podspec diff` imports before and while it reads the host (cli/, run/apply.py's
# _import_deciders, the engine, the loader).
DIFF_START = (
    "podspec.cli", "podspec.cli.cmd_diff", "podspec.run.apply", "podspec.run.manifests", "podspec.loader",
    "podspec.loader.schema", "podspec.engine.podman", "podspec.reconcile.diff", "podspec.reconcile.network",
    "podspec.run.pulls", "podspec.run.diff_result", "podspec.run.rootless", "podspec.render",
)
# Not needed by a no-op diff of plain pods: the plan (apply plans; a diff does not), the stop marks
# (a pod that is not running), the history records (apply writes them), host ports (a pod created),
# the other commands' results, apply's results and events (run/results.py), the history's pod codec,
# the model's classes of probes, Services, rollouts and files volumes (model.EXTRA: model_extra.py),
# and importlib.resources (zipfile & co.).
NOT_AT_START = (
    "podspec.plan", "podspec.reconcile.lifecycle", "podspec.reconcile.history", "podspec.reconcile.ports",
    "podspec.run.reports", "podspec.run.results", "podspec.model_extra", "podspec.reconcile.podcodec", "podspec.reconcile.planner", "importlib.resources",
    "zipfile", "deepdiff", "jsonschema",
)


def _loaded_after(imported: tuple[str, ...], watched: tuple[str, ...]) -> subprocess.CompletedProcess:
    """A fresh interpreter imports `imported` and prints which of `watched` came with them."""
    code = (
        "import importlib, sys\n"
        f"for name in {imported!r}:\n"
        "    importlib.import_module(name)\n"
        f"print(sorted(m for m in {watched!r} if m in sys.modules))\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_a_diff_starts_without_what_only_other_commands_or_pods_need():
    done = _loaded_after(DIFF_START, NOT_AT_START)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout


# What `podspec diff` imports before the host reading's thread sends its first request (the CLI,
# the command's module, the request's parts, the engine): the model and the observed types are
# defined after it, while Podman answers (run/reading.py).
BEFORE_THE_READ = (
    "podspec.cli", "podspec.cli.cmd_diff", "podspec.cli.context", "podspec.cli.progress", "podspec.run.apply",
    "podspec.run.manifests", "podspec.run.project", "podspec.run.origin", "podspec.policy", "podspec.engine.podman",
    "podspec.run.reading",
)
NOT_BEFORE_THE_READ = ("podspec.model", "podspec.observed", "podspec.references", "podspec.loader", "yaml")


def test_a_diff_sends_its_first_request_before_defining_the_model():
    done = _loaded_after(BEFORE_THE_READ, NOT_BEFORE_THE_READ)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout


def test_the_models_extra_classes_are_the_models_own():
    """model.EXTRA's classes come from model_extra.py, asked for through model.py as any other."""
    from podspec import model, model_extra

    assert all(getattr(model, name) is getattr(model_extra, name) for name in model.EXTRA)
    defined = {n for n, v in vars(model_extra).items() if isinstance(v, type) and v.__module__ == model_extra.__name__}
    assert defined == set(model.EXTRA)
