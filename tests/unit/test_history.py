"""Apply history (reconcile/history.py, run/history.py) on plain data, and the git revision helper
against real git repositories made in the test."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

from podspec import labels as L
from podspec import render
from podspec.errors import EngineError
from podspec.names import is_history_name
from podspec.observed import ObservedSecret, ObservedState, ObservedVolume
from podspec.plan import Step, StepKind
from podspec.reconcile import diff as differ
from podspec.reconcile import history as H
from podspec.reconcile import planner
from podspec.reconcile.history import HistoryRecord
from podspec.reconcile.status import report
from podspec.run import history
from podspec.run.reports import HistoryResult, StatusResult
from podspec.run.revision import git_revision
from tests.unit.hosts import applied, state, webserver


def volume(record: HistoryRecord) -> ObservedVolume:
    """A format-1 record: an empty labelled volume (what podspec wrote before the records were secrets)."""
    labels = {L.MANAGED_BY: L.MANAGER, L.PROJECT: record.project, L.HISTORY: H.record_json(record)}
    return ObservedVolume(f"podspec-history.{record.project}.{record.seq:06d}", labels)


def secret(record: HistoryRecord, listed: bool = True) -> ObservedSecret:
    """A record as the secret list shows it: with its labels (Podman 5) or without (4.3)."""
    return ObservedSecret("id" + str(record.seq), H.secret_name(record), H.to_labels(record) if listed else {}, listed)


def rec(seq: int, revision: str, changed=(), unchanged=(), project="demo", outcome="applied") -> HistoryRecord:
    return HistoryRecord(project, seq, revision, f"2026-11-28T10:00:0{seq}Z", outcome,
                         {"create": len(changed)}, tuple(changed), tuple(unchanged))


def read(secrets=(), volumes=(), project="demo"):
    known = H.entries(tuple(secrets), tuple(volumes), project)
    return H.records({}, known)


def test_a_record_round_trips_through_secret_labels_and_other_secrets_are_not_records():
    record = rec(3, "abc", changed=["web"], unchanged=["db"])
    labels = H.to_labels(record)
    assert labels[L.MANAGED_BY] == "podspec" and labels[L.PROJECT] == "demo"
    name = H.secret_name(record)
    assert len(name) <= 64 and name.startswith("podspec-history-") and is_history_name(name)
    [back] = read([secret(record)])
    assert back == replace(record, volume=name)
    assert read([ObservedSecret("x", "podspec-0123abcd-web-key-0123456789ab", {})]) == ()
    assert read([ObservedSecret("x", name, {L.HISTORY: "{}"})]) == ()  # not podspec's: ignored
    assert H.from_labels(name, {**L.for_volume("demo"), L.HISTORY: "not json"}) is None


def test_format_one_volume_records_are_still_read_and_follow_in_seq():
    old = volume(rec(1, "r1", changed=["web"]))
    [back] = read(volumes=[old])
    assert (back.seq, back.revision, back.changed, back.restorable) == (1, "r1", ("web",), False)
    known = H.entries((), (old,), "demo")
    assert H.next_seq(known) == 2


def test_records_newest_first_next_seq_and_pruning_per_project():
    secrets = tuple(secret(rec(i, f"r{i}")) for i in range(2, 6)) + (secret(rec(1, "other", project="else")),)
    volumes = (volume(rec(1, "r1")),)
    assert [r.seq for r in read(secrets, volumes)] == [5, 4, 3, 2, 1]
    demo = H.entries(secrets, volumes, "demo")
    assert H.next_seq(demo) == 6 and H.next_seq(H.entries(secrets, volumes, "else")) == 2
    assert H.next_seq(H.entries((), (), "new")) == 1
    assert [e.seq for e in H.to_prune(demo, keep=3)] == [2, 1]
    assert H.to_prune(H.entries(secrets, volumes, "else"), keep=3) == ()


def test_status_shows_the_revision_of_the_newest_record_naming_each_pod():
    observed = applied(state(webserver()))
    records = (rec(1, "r1", changed=["dynamic-webserver"]), rec(2, "r2", changed=["other"]),  # does not name the pod
               rec(3, "r3", project="else", unchanged=["dynamic-webserver"]))  # another project's
    [pod] = report(observed, None, H.revisions(records))
    assert pod.revision == "r1"
    assert render.status_json(StatusResult(None, (pod,)))["pods"][0]["revision"] == "r1"
    assert "project=demo  Running  revision=r1" in render.status_text(StatusResult(None, (pod,)))
    assert report(applied(state(webserver())))[0].revision == ""


def test_prune_never_removes_history_records():
    observed = applied(state(webserver()))
    record = rec(1, "r1")
    observed = replace(observed, volumes=observed.volumes + (volume(record),), secrets=(secret(record),))
    found = differ.compute(state(webserver()), observed, "demo", prune=True, prune_volumes=True)
    assert not found.has_changes


class FakeSecrets:
    """The engine calls history makes: observe (the secret list; Podman 4.3's without labels), an
    inspect per record, and secret steps."""

    def __init__(self, secrets=(), volumes=(), listed: bool = True) -> None:
        self.secrets_ = {s.name: s for s in secrets}
        self.volumes_ = {v.name: v for v in volumes}
        self.listed = listed
        self.calls: list[str] = []

    def observe(self):
        self.calls.append("observe")
        secrets = tuple(replace(s, labels=dict(s.labels) if self.listed else {}, labels_listed=self.listed)
                        for _, s in sorted(self.secrets_.items()))
        return ObservedState(volumes=tuple(sorted(self.volumes_.values(), key=lambda v: v.name)), secrets=secrets)

    def secret_labels(self, name):
        self.calls.append(f"inspect {name}")
        found = self.secrets_.get(name)
        return None if found is None else dict(found.labels)

    def run(self, step: Step) -> None:
        self.calls.append(f"{step.kind.value} {step.target}")
        if step.kind is StepKind.CREATE_SECRET:
            if step.target in self.secrets_:
                raise EngineError("Podman refused to create secret: secret name in use", "")
            self.secrets_[step.target] = ObservedSecret("new", step.target, dict(step.labels))
        elif step.kind is StepKind.REMOVE_VOLUME:
            del self.volumes_[step.target]
        else:
            del self.secrets_[step.target]


def test_recording_is_one_create_call_and_prunes_beyond_keep():
    engine = FakeSecrets([secret(rec(i, f"r{i}")) for i in range(2, 4)], [volume(rec(1, "r1"))])
    written = history.record(engine, rec(0, "new"), keep=3)  # type: ignore[arg-type]
    assert written.seq == 4 and written.volume == H.secret_name(written)
    assert engine.calls == ["observe", f"create_secret {written.volume}", "remove_volume podspec-history.demo.000001"]
    assert [r.revision for r in history.read(engine, "demo")] == ["new", "r3", "r2"]  # type: ignore[arg-type]


def test_on_podman_4_3_reading_a_record_is_one_inspect_and_writing_needs_none():
    engine = FakeSecrets([secret(rec(i, f"r{i}")) for i in range(1, 4)], listed=False)
    written = history.record(engine, rec(0, "new"), keep=20)  # type: ignore[arg-type]
    assert written.seq == 4 and engine.calls == ["observe", f"create_secret {written.volume}"]
    engine.calls.clear()
    assert [r.revision for r in history.read(engine, "demo", newest=2)] == ["new", "r3"]  # type: ignore[arg-type]
    assert engine.calls == ["observe", f"inspect {written.volume}", f"inspect {secret(rec(3, 'r3')).name}"]


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
    known = H.entries((secret(rec(4, "old"), listed=False), secret(newest, listed=False)), (), "demo")  # names alone
    same = HistoryRecord("demo", 0, "abc", "2026-11-28T11:00:00Z", "no-changes", {"create": 0}, unchanged=("a", "b"))
    assert repeated(known, same) is not None and repeated(known, same).seq == 5  # type: ignore[union-attr]
    assert repeated(known, replace(same, revision="abd")) is None  # another revision
    assert repeated(known, replace(same, unchanged=("a",))) is None  # other pods
    assert repeated(known, replace(same, outcome="applied", changed=("a",))) is None  # a change is always recorded
    assert repeated(H.entries((secret(rec(4, "abc")),), (), "demo"), same) is None  # the newest was no no-op of these pods
    assert repeated((), same) is None
    assert repeated(H.entries((), (volume(newest),), "demo"), same) is None  # a format-1 record has no fingerprint


def test_a_record_pruned_meanwhile_by_another_client_is_no_error():
    from podspec.errors import Refusal

    class Racing(FakeSecrets):
        def run(self, step: Step) -> None:
            if step.kind is StepKind.REMOVE_SECRET:  # another apply (with nothing to do: no lock) pruned it first
                self.secrets_.pop(step.target, None)
                raise EngineError(f"Podman refused to remove secret {step.target}: no secret with name or id: no such secret", "",
                                  Refusal.NOT_FOUND)
            super().run(step)

    engine = Racing([secret(rec(i, f"r{i}")) for i in range(1, 4)])
    written = history.record(engine, rec(0, "new"), keep=3)  # type: ignore[arg-type]
    assert written.seq == 4
    assert [r.revision for r in history.read(engine, "demo")] == ["new", "r3", "r2"]  # type: ignore[arg-type]


def test_a_seq_taken_meanwhile_is_skipped():
    class Racing(FakeSecrets):
        def run(self, step: Step) -> None:
            if "-000001-" in step.target and not any("-000001-" in n for n in self.secrets_):  # another client got there first
                theirs = secret(rec(1, "theirs"))
                self.secrets_[theirs.name] = theirs
                raise EngineError("Podman refused to create secret: secret name in use", "")
            super().run(step)

    engine = Racing()
    written = history.record(engine, rec(0, "mine"), observed=ObservedState())  # type: ignore[arg-type]
    assert written.seq == 2
    assert [r.revision for r in history.read(engine, "demo")] == ["mine", "theirs"]  # type: ignore[arg-type]
