"""Apply history (reconcile/history.py, run/history.py) on plain data, and the git revision helper
against real git repositories made in the test."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

from podspec import labels as L
from podspec import render
from podspec.observed import ObservedState, ObservedVolume
from podspec.plan import Step, StepKind
from podspec.reconcile import diff as differ
from podspec.reconcile import history as H
from podspec.reconcile import planner
from podspec.reconcile.history import HistoryRecord
from podspec.reconcile.status import report
from podspec.run import history
from podspec.run.results import HistoryResult, StatusResult
from podspec.run.revision import git_revision
from tests.unit.hosts import applied, state, webserver


def volume(record: HistoryRecord) -> ObservedVolume:
    return ObservedVolume(H.volume_name(record.project, record.seq), H.to_labels(record))


def rec(seq: int, revision: str, changed=(), unchanged=(), project="demo", outcome="applied") -> HistoryRecord:
    return HistoryRecord(project, seq, revision, f"2026-11-28T10:00:0{seq}Z", outcome,
                         {"create": len(changed)}, tuple(changed), tuple(unchanged))


def test_a_record_round_trips_through_volume_labels_and_other_volumes_are_not_records():
    record = rec(3, "abc", changed=["web"], unchanged=["db"])
    labels = H.to_labels(record)
    assert labels[L.MANAGED_BY] == "podspec" and labels[L.PROJECT] == "demo"
    back = H.from_volume(ObservedVolume("podspec-history.demo.000003", labels))
    assert back == HistoryRecord("demo", 3, "abc", record.time, "applied", {"create": 1}, ("web",), ("db",),
                                 volume="podspec-history.demo.000003")
    assert H.from_volume(ObservedVolume("data", L.for_volume("demo"))) is None
    assert H.from_volume(ObservedVolume("x", {L.HISTORY: "{}"})) is None  # not podspec's: ignored
    assert H.from_volume(ObservedVolume("x", {**L.for_volume("demo"), L.HISTORY: "not json"})) is None


def test_records_newest_first_next_seq_and_pruning_per_project():
    volumes = tuple(volume(rec(i, f"r{i}")) for i in range(1, 6)) + (volume(rec(1, "other", project="else")),)
    assert [r.seq for r in H.records(volumes, "demo")] == [5, 4, 3, 2, 1]
    assert H.next_seq(volumes, "demo") == 6 and H.next_seq(volumes, "else") == 2 and H.next_seq((), "new") == 1
    assert H.to_prune(volumes, "demo", keep=3) == ("podspec-history.demo.000002", "podspec-history.demo.000001")
    assert H.to_prune(volumes, "else", keep=3) == ()


def test_status_shows_the_revision_of_the_newest_record_naming_each_pod():
    observed = applied(state(webserver()))
    records = (volume(rec(1, "r1", changed=["dynamic-webserver"])),
               volume(rec(2, "r2", changed=["other"])),  # does not name the pod
               volume(rec(3, "r3", project="else", unchanged=["dynamic-webserver"])))  # another project's
    observed = ObservedState(observed.pods, observed.containers, observed.volumes + records, observed.images)
    [pod] = report(observed)
    assert pod.revision == "r1"
    assert render.status_json(StatusResult(None, (pod,)))["pods"][0]["revision"] == "r1"
    assert "project=demo  Running  revision=r1" in render.status_text(StatusResult(None, (pod,)))
    assert report(applied(state(webserver())))[0].revision == ""


def test_prune_volumes_never_removes_history_records():
    observed = applied(state(webserver()))
    record = volume(rec(1, "r1"))
    observed = ObservedState(observed.pods, observed.containers, observed.volumes + (record,), observed.images)
    found = differ.compute(state(webserver()), observed, "demo", prune=True, prune_volumes=True)
    assert not found.has_changes


class FakeVolumes:
    """The engine calls history makes: the volume list, and volume steps."""

    def __init__(self, volumes=()) -> None:
        self.volumes_ = {v.name: v for v in volumes}
        self.calls: list[str] = []

    def list_volumes(self):
        self.calls.append("list")
        return tuple(sorted(self.volumes_.values(), key=lambda v: v.name))

    def run(self, step: Step) -> None:
        self.calls.append(f"{step.kind.value} {step.target}")
        if step.kind is StepKind.CREATE_VOLUME:
            self.volumes_[step.target] = ObservedVolume(step.target, dict(step.labels))
        else:
            del self.volumes_[step.target]


def test_recording_is_one_create_call_and_prunes_beyond_keep():
    engine = FakeVolumes(volume(rec(i, f"r{i}")) for i in range(1, 4))
    written = history.record(engine, rec(0, "new"), keep=3)  # type: ignore[arg-type]
    assert written.seq == 4 and written.volume == "podspec-history.demo.000004"
    assert engine.calls == ["list", "create_volume podspec-history.demo.000004", "remove_volume podspec-history.demo.000001"]
    assert [r.revision for r in history.read(engine, "demo")] == ["new", "r3", "r2"]  # type: ignore[arg-type]


def test_record_of_a_failed_apply_names_the_pods_not_done():
    diff = differ.compute(state(webserver()), ObservedState(), "demo")
    plan = planner.build(diff)
    done = history.record_of("demo", "r", "applied", diff)
    assert done.changed == ("dynamic-webserver",) and done.not_done == ()
    failed = history.record_of("demo", "r", "failed", diff, not_done=plan.steps[3:], failed=plan.steps[2], error="boom")
    assert failed.changed == () and failed.not_done == ("dynamic-webserver",) and failed.error == "boom"
    refused = history.record_of("demo", "r", "failed", diff, error="conflict", ran=False)
    assert refused.changed == () and refused.not_done == ("dynamic-webserver",)
    assert history.record_of("demo", "r", "failed", None, error="x").summary == {}


def test_history_text_is_a_table_newest_first():
    records = (HistoryRecord("demo", 2, "a" * 40 + "-dirty", "2026-11-28T10:00:02Z", "failed", {"recreate": 1},
                             not_done=("web",), unchanged=("db",), error="step 2/3 failed"),
               HistoryRecord("demo", 1, "release-1", "2026-11-28T10:00:01Z", "applied", {"create": 2}, ("db", "web")))
    assert render.history_text(HistoryResult("demo", records)).splitlines() == [
        "#  TIME (UTC)           PROJECT  REVISION            OUTCOME  CHANGES     PODS",
        "2  2026-11-28 10:00:02  demo     aaaaaaaaaaaa-dirty  failed   1 recreate  db, web!",
        "1  2026-11-28 10:00:01  demo     release-1           applied  2 create    db*, web*",
        "pods: name* changed, -name removed, name! not done (failed)",
        "#2 demo: step 2/3 failed",
    ]
    assert render.history_text(HistoryResult(None, ())) == "No applies recorded."


# ------------------------------------------------------------------------------ git revision


def git(repo: Path, *args: str) -> str:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e",
           "HOME": str(repo), "PATH": "/usr/bin:/bin"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout.strip()


def test_git_revision_is_the_commit_dirty_only_for_the_manifest_paths(tmp_path):
    assert git_revision(["pods.yaml"], tmp_path) == ""  # not in git
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "pods.yaml").write_text("a: 1\n")
    git(tmp_path, "init", "-q")
    assert git_revision(["m"], tmp_path) == ""  # no commit yet
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "one")
    head = git(tmp_path, "rev-parse", "HEAD")
    assert git_revision(["m"], tmp_path) == head
    assert git_revision([str(tmp_path / "m" / "pods.yaml")], Path("/")) == head
    (tmp_path / "README").write_text("not a manifest\n")
    assert git_revision(["m"], tmp_path) == head
    (tmp_path / "m" / "new.yaml").write_text("b: 2\n")  # untracked manifest: it would be applied
    assert git_revision(["m"], tmp_path) == f"{head}-dirty"
    (tmp_path / "m" / "new.yaml").unlink()
    (tmp_path / "m" / "pods.yaml").write_text("a: 2\n")
    assert git_revision(["m/pods.yaml"], tmp_path) == f"{head}-dirty"
    assert git_revision(["-"], tmp_path) == ""
    git(tmp_path, "add", "m/pods.yaml")  # staged, not committed: still not the commit
    assert git_revision(["m"], tmp_path) == f"{head}-dirty"
    git(tmp_path, "commit", "-q", "-m", "two")
    second = git(tmp_path, "rev-parse", "HEAD")
    git(tmp_path, "checkout", "-q", "--detach", head)  # a detached HEAD names its commit
    assert git_revision(["m"], tmp_path) == head
    git(tmp_path, "checkout", "-q", "--detach", second)
    assert git_revision(["m"], tmp_path) == second


def test_git_revision_with_a_manifest_path_outside_the_repository(tmp_path):
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    (repo / "m").mkdir(parents=True)
    outside.mkdir()
    (repo / "m" / "pods.yaml").write_text("a: 1\n")
    (outside / "more.yaml").write_text("b: 1\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one")
    head = git(repo, "rev-parse", "HEAD")
    assert git_revision([str(repo / "m"), str(outside / "more.yaml")], tmp_path) == head  # the outside one does not count
    (repo / "m" / "pods.yaml").write_text("a: 2\n")
    assert git_revision([str(repo / "m"), str(outside / "more.yaml")], tmp_path) == f"{head}-dirty"
    assert git_revision([str(outside / "more.yaml"), str(repo / "m")], tmp_path) == ""  # the first path is not in git


def test_git_revision_asks_git_once(tmp_path, monkeypatch):
    from podspec.run import revision

    (tmp_path / "pods.yaml").write_text("a: 1\n")
    calls = []
    real = revision.subprocess.run
    monkeypatch.setattr(revision.subprocess, "run", lambda argv, **kw: calls.append(argv) or real(argv, **kw))
    assert git_revision(["pods.yaml"], tmp_path) == "" and calls == []  # no repository from here up: no git at all
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "one")
    head = git(tmp_path, "rev-parse", "HEAD")
    calls.clear()
    assert git_revision(["pods.yaml"], tmp_path) == head and len(calls) == 1


def test_a_no_change_record_repeating_the_newest_is_not_written_again():
    from podspec.reconcile.history import repeated

    newest = HistoryRecord("demo", 5, "abc", "2026-11-28T10:00:00Z", "no-changes", {"create": 0}, unchanged=("a", "b"))
    volumes = (volume(rec(4, "old")), volume(newest))
    same = HistoryRecord("demo", 0, "abc", "2026-11-28T11:00:00Z", "no-changes", {"create": 0}, unchanged=("a", "b"))
    assert repeated(volumes, same) is not None and repeated(volumes, same).seq == 5  # type: ignore[union-attr]
    assert repeated(volumes, replace(same, revision="abd")) is None  # another revision
    assert repeated(volumes, replace(same, unchanged=("a",))) is None  # other pods
    assert repeated(volumes, replace(same, outcome="applied", changed=("a",))) is None  # a change is always recorded
    assert repeated((volume(rec(4, "abc")),), same) is None  # the newest was no no-op of these pods
    assert repeated((), same) is None


def test_a_record_pruned_meanwhile_by_another_client_is_no_error():
    from podspec.errors import EngineError

    class Racing(FakeVolumes):
        def run(self, step: Step) -> None:
            if step.kind is StepKind.REMOVE_VOLUME:  # another apply (with nothing to do: no lock) pruned it first
                self.volumes_.pop(step.target, None)
                raise EngineError(f"Podman refused to remove volume {step.target}: no volume with name found: no such volume", "")
            super().run(step)

    engine = Racing(volume(rec(i, f"r{i}")) for i in range(1, 4))
    written = history.record(engine, rec(0, "new"), keep=3)  # type: ignore[arg-type]
    assert written.seq == 4
    assert [r.revision for r in history.read(engine, "demo")] == ["new", "r3", "r2"]  # type: ignore[arg-type]


def test_a_seq_taken_meanwhile_is_skipped():
    from podspec.errors import EngineError

    class Racing(FakeVolumes):
        def run(self, step: Step) -> None:
            if step.target.endswith("000001") and step.target not in self.volumes_:  # another client got there first
                self.volumes_[step.target] = volume(rec(1, "theirs"))
                raise EngineError("Podman refused to create volume: volume already exists", "")
            super().run(step)

    engine = Racing()
    written = history.record(engine, rec(0, "mine"), volumes=())  # type: ignore[arg-type]
    assert written.seq == 2
    assert [r.revision for r in history.read(engine, "demo")] == ["mine", "theirs"]  # type: ignore[arg-type]
