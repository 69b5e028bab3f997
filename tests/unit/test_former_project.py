"""Hosts upgraded from the bare-directory project name (reconcile/former.py): the objects an older
podspec applied under it are recognised, never duplicated, renamed or recreated; volumes kept."""

from __future__ import annotations

from dataclasses import replace

import pytest

from podspec.engine.fake import FakeEngine
from podspec.errors import ConflictError
from podspec.model import DesiredState
from podspec.plan import StepKind
from podspec.reconcile.former import keeps_former
from podspec.run.apply import ApplyRequest, apply, diff
from podspec.run.delete import DeleteRequest, delete
from podspec.run.listener import Recorder
from podspec.run.manifests import Manifests
from tests.unit.hosts import applied, state, webserver

A = "git:github.com/acme/shop"
B = "git:github.com/other/blog"
NEW = "manifests-3fa2c1"
IMAGES = ("docker.io/library/httpd:2.4", "docker.io/library/alpine:latest", "docker.io/library/busybox:latest")
TUTORIAL = "manifests/webserver.yaml"


def test_the_former_name_is_kept_for_this_sources_objects_only():
    desired = state(webserver())
    mine = applied(desired, project="manifests", origin=A)
    assert keeps_former(mine, NEW, "manifests", A, desired)
    assert keeps_former(mine, NEW, "manifests", A, DesiredState())  # this source's, whatever its files say now
    assert not keeps_former(mine, NEW, "manifests", B, desired)  # another source's: the new name
    assert not keeps_former(mine, NEW, "", A, desired)  # a name given on purpose
    unrecorded = applied(desired, project="manifests")  # before sources were recorded
    assert keeps_former(unrecorded, NEW, "manifests", A, desired) and keeps_former(unrecorded, NEW, "manifests", B, desired)
    # ... but an unrelated repository with a manifests/ folder of its own does not join that project
    other = state(replace(webserver(), name="blog"))
    assert not keeps_former(replace(unrecorded, volumes=()), NEW, "manifests", B, other)
    # only a volume left (the pods deleted): the data is recognised too
    assert keeps_former(replace(mine, pods=(), containers=()), NEW, "manifests", A, desired)
    # already under the new name: it stays there
    both = applied(desired, project=NEW, origin=A)
    assert not keeps_former(replace(both, volumes=both.volumes + mine.volumes), NEW, "manifests", A, desired)
    assert not keeps_former(applied(DesiredState()), NEW, "manifests", A, desired)  # a new host


def _engine_with(project: str, origin: str) -> FakeEngine:
    engine = FakeEngine(images=IMAGES, pullable=IMAGES)
    first = ApplyRequest(Manifests((TUTORIAL,)), project=project, origin=origin)
    assert not apply(first, lambda: engine).failed
    engine.calls.clear()
    return engine


def test_an_upgraded_host_keeps_the_former_name_says_so_and_changes_nothing():
    engine = _engine_with("manifests", A)
    ids = sorted(c.id for c in engine.observe().containers)
    listener = Recorder()
    request = ApplyRequest(Manifests((TUTORIAL,)), project=NEW, former="manifests", origin=A, prune=True, prune_volumes=True)
    result = apply(request, lambda: engine, listener)
    assert not result.failed and not result.diff.has_changes and result.diff.project == "manifests"
    assert sorted(c.id for c in engine.observe().containers) == ids  # nothing recreated, nothing duplicated
    assert any("keeps it" in text and NEW in text for text in listener.warnings), listener.warnings
    assert {p.project for p in engine.observe().pods} == {"manifests"}
    # diff and a dry run say the same; delete removes the pods it finds under the former name
    assert diff(request, lambda: engine).diff.project == "manifests"
    assert apply(replace(request, dry_run=True), lambda: engine).diff.project == "manifests"
    deleted = delete(DeleteRequest(Manifests((TUTORIAL,)), project=NEW, former="manifests", origin=A), lambda: engine)
    assert deleted.project == "manifests" and engine.observe().pods == ()
    assert any(v.name == "webserver-data" for v in engine.observe().volumes)  # volumes kept (no --volumes)
    # the data left under the former name is still this source's: the next apply mounts it again, no copy
    again = apply(request, lambda: engine)
    assert again.diff.project == "manifests" and not again.failed
    assert [v.name for v in engine.observe().volumes if v.name.startswith("webserver-data")] == ["webserver-data"]


def test_another_source_under_the_former_name_gets_the_new_name_and_never_touches_those_objects():
    engine = _engine_with("manifests", A)
    request = ApplyRequest(Manifests((TUTORIAL,)), project=NEW, former="manifests", origin=B, prune=True, prune_volumes=True)
    with pytest.raises(ConflictError, match="belongs to podspec project 'manifests'"):
        apply(request, lambda: engine)
    changes = [c for c in engine.calls if c.method in {k.value for k in StepKind} and not c.argument.startswith("podspec-history-")]
    assert changes == []  # only the refused apply's history record, under the new name


def test_moving_to_the_new_name_on_purpose_keeps_the_data_and_then_sticks():
    engine = _engine_with("manifests", A)
    default = ApplyRequest(Manifests((TUTORIAL,)), project=NEW, former="manifests", origin=A)
    delete(DeleteRequest(Manifests((TUTORIAL,)), project=NEW, former="manifests", origin=A), lambda: engine)
    volume_ids = sorted((v.name, v.labels.get("io.podspec.project")) for v in engine.observe().volumes if not v.name.startswith("podspec"))
    moved = apply(ApplyRequest(Manifests((TUTORIAL,)), project=NEW, origin=A, adopt=True), lambda: engine)
    assert not moved.failed and {p.project for p in engine.observe().pods} == {NEW}
    assert sorted((v.name, v.labels.get("io.podspec.project")) for v in engine.observe().volumes
                  if not v.name.startswith("podspec")) == volume_ids  # the same volumes, as they were
    after = apply(default, lambda: engine)
    assert after.diff.project == NEW and not after.diff.has_changes
