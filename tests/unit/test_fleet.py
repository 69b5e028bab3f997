"""A fleet of targets in one command (issue 29): a bound on how many run at once, failures kept per
target, and staged rollouts (a canary first, the rest only if it passed). Synchronised on events."""

from __future__ import annotations

import threading

import pytest

from podspec.errors import UsageError
from podspec.run.projectfile import Target
from podspec.run.targets import Verdict, each, staged, verdict


def fleet(count: int) -> list[Target]:
    return [Target(f"host{i}", ("m",), url=f"ssh://root@h{i}/run/podman/podman.sock") for i in range(count)]


def test_no_more_than_the_bound_run_at_once_and_every_target_runs():
    targets = fleet(10)
    limit = 3
    running, peak, mutex = 0, 0, threading.Lock()
    full = threading.Event()  # `limit` are running: the first of them may finish

    def work(target: Target) -> str:
        nonlocal running, peak
        with mutex:
            running += 1
            peak = max(peak, running)
            if running == limit:
                full.set()
        assert full.wait(10), "the bound was never reached"
        with mutex:
            running -= 1
        return target.name

    outcomes = each(targets, work, limit=limit)
    assert [o.result for o in outcomes] == [t.name for t in targets]
    assert peak == limit


def test_all_run_side_by_side_when_the_bound_allows():
    targets = fleet(5)
    barrier = threading.Barrier(5, timeout=10)  # passes only if all five run at the same time
    outcomes = each(targets, lambda t: barrier.wait() >= 0, limit=8)
    assert all(o.result is True for o in outcomes)


def test_a_failing_host_is_its_own_outcome_and_the_others_finish():
    def work(target: Target) -> str:
        if target.name == "host2":
            raise UsageError("host2: connection refused")
        return "applied"

    outcomes = each(fleet(4), work, limit=2)
    assert [(o.result, o.error and o.error.message) for o in outcomes] == [
        ("applied", None), ("applied", None), (None, "host2: connection refused"), ("applied", None)]
    assert all(o.seconds >= 0 for o in outcomes)
    assert verdict(outcomes) is Verdict.FAILED


def test_a_canary_that_passes_lets_the_rest_run_after_it():
    order: list[str] = []
    mutex = threading.Lock()

    def work(target: Target) -> str:
        with mutex:
            order.append(target.name)
        return "ready"

    outcomes = staged(fleet(4), work, canary=["host2"], passed=lambda r: r == "ready")
    assert order[0] == "host2" and sorted(order) == ["host0", "host1", "host2", "host3"]
    assert [o.target.name for o in outcomes] == ["host0", "host1", "host2", "host3"]
    assert verdict(outcomes) is Verdict.OK


@pytest.mark.parametrize("failure", ["not ready", "error"])
def test_a_canary_that_fails_skips_the_rest_and_runs_nothing_there(failure):
    ran: list[str] = []

    def work(target: Target) -> str:
        ran.append(target.name)
        if failure == "error":
            raise UsageError("the canary's apply failed")
        return "not ready"

    outcomes = staged(fleet(3), work, canary=["host0"], passed=lambda r: r == "ready")
    assert ran == ["host0"]
    skipped = {o.target.name: o.skipped for o in outcomes}
    assert skipped == {"host0": "", "host1": "not run: the canary host0 did not succeed",
                       "host2": "not run: the canary host0 did not succeed"}
    assert verdict(outcomes) is Verdict.FAILED


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A podspec.toml with targets a, b, c on the tutorial and d on a broken file; a FakeEngine per
    target's URL; every load of the manifests counted."""
    import shutil
    from pathlib import Path

    from podspec.cli.context import project_file
    from podspec.engine.fake import FakeEngine
    from podspec.run import manifests

    root = Path(__file__).resolve().parents[2]
    (tmp_path / ".git").mkdir()  # the project file is looked for up to the repository's top
    shutil.copy(root / "manifests" / "webserver.yaml", tmp_path / "web.yaml")
    (tmp_path / "broken.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containerz: []}\n")
    text = 'project = "fleet"\n'
    for name, file in (("a", "web.yaml"), ("b", "web.yaml"), ("c", "web.yaml"), ("d", "broken.yaml")):
        text += f'\n[targets.{name}]\nurl = "unix:///run/{name}.sock"\nmanifests = ["{file}"]\n'
    (tmp_path / "podspec.toml").write_text(text)
    images = ("docker.io/library/httpd:2.4", "docker.io/library/alpine:latest", "docker.io/library/busybox:latest")
    engines = {f"unix:///run/{n}.sock": FakeEngine(images=images, pullable=images) for n in "abcd"}
    monkeypatch.setattr("podspec.cli.context.connector", lambda url, connection, identity=None: (lambda: engines[url]))
    loads: list[tuple[str, ...]] = []
    real = manifests.load

    def counted(given):
        loads.append(tuple(Path(p).name for p in given.paths))
        return real(given)

    monkeypatch.setattr(manifests, "load", counted)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PODSPEC_PROJECT", raising=False)
    project_file.cache_clear()
    yield engines, loads
    project_file.cache_clear()


@pytest.mark.parametrize("command", ["diff", "apply"])
def test_targets_naming_the_same_manifests_load_them_once_and_each_host_gets_its_own_outcome(project, command):
    import json

    from typer.testing import CliRunner

    from podspec.cli import app

    engines, loads = project
    result = CliRunner().invoke(app, [command, "--target", "all", "-o", "json"])
    assert result.exit_code == 1, result.output  # d's manifest is broken
    assert sorted(loads) == [("broken.yaml",), ("web.yaml",)]  # once per set of files, not once per target
    outcome = json.loads(result.stdout)["targets"]
    assert "containerz" in json.dumps(outcome["d"]), outcome["d"]
    for name in "abc":
        assert "error" not in outcome[name], outcome[name]
        observed = [c.method for c in engines[f"unix:///run/{name}.sock"].calls]
        assert observed[0] == "observe"  # each host read on its own
    if command == "apply":  # each host got the pod: one load, three hosts changed
        assert all(engines[f"unix:///run/{n}.sock"].count("create_pod") == 1 for n in "abc")
