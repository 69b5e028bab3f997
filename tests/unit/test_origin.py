"""Project identity beyond the name: the source of the manifests (run/origin.py), recorded on what
podspec creates; another source's objects are neither changed nor pruned without --force-conflicts."""

from __future__ import annotations

import socket
from dataclasses import replace

import pytest

from podspec import labels as L
from podspec.model import DesiredState
from podspec.reconcile import delete as deletion
from podspec.reconcile import diff as differ
from podspec.reconcile import planner
from podspec.reconcile.diff import Action
from podspec.run.origin import for_repository, normalize_url, of_paths
from tests.unit.hosts import applied, state, webserver, with_container

A = "git:github.com/acme/shop"
B = "git:github.com/other/blog"


@pytest.mark.parametrize("url", [
    "https://github.com/acme/shop.git",
    "https://user:tok3n@GitHub.com/acme/shop",
    "git@github.com:acme/shop.git",
    "ssh://git@github.com:22/acme/shop.git",
    "https://github.com/acme/shop/",
])
def test_every_way_of_writing_a_repository_url_is_one_source_without_credentials(url):
    assert normalize_url(url) == "github.com/acme/shop"
    assert "tok3n" not in for_repository(url)


def test_local_repositories_are_their_absolute_path():
    assert normalize_url("file:///srv/git/shop.git") == "/srv/git/shop"
    assert normalize_url("/srv/git/shop.git/") == "/srv/git/shop"
    assert for_repository("/srv/git/shop") == "git:/srv/git/shop"


def _repo(root, remote: str | None):
    (root / ".git").mkdir(parents=True)
    config = "[core]\n\tbare = false\n"
    if remote:
        config += f'[remote "upstream"]\n\turl = https://example.org/wrong\n[remote "origin"]\n\turl = {remote}\n\tfetch = x\n'
    (root / ".git" / "config").write_text(config)
    (root / "manifests").mkdir()
    (root / "manifests" / "web.yaml").write_text("")
    return root


def test_two_repositories_with_a_manifests_folder_are_two_sources(tmp_path):
    a = _repo(tmp_path / "a", "git@github.com:acme/shop.git")
    b = _repo(tmp_path / "b", None)
    assert of_paths(["manifests/web.yaml"], a, socket.gethostname()) == "git:github.com/acme/shop"
    assert of_paths(["manifests"], a, socket.gethostname()) == of_paths([str(a / "manifests" / "web.yaml")], tmp_path, socket.gethostname())
    assert of_paths(["manifests"], b, socket.gethostname()) == f"path:{socket.gethostname()}:{b}"  # no remote: the repository's top
    assert of_paths(["manifests"], a, socket.gethostname()) != of_paths(["manifests"], b, socket.gethostname())
    # a clone elsewhere (a CI runner, the sync agent) is the same source
    clone = _repo(tmp_path / "ci" / "shop", "https://github.com/acme/shop")
    assert of_paths(["manifests"], clone, socket.gethostname()) == of_paths(["manifests"], a, socket.gethostname()) == for_repository("https://github.com/acme/shop")
    # outside any repository: the directory
    plain = tmp_path / "plain" / "manifests"
    plain.mkdir(parents=True)
    (plain / "web.yaml").write_text("")
    assert of_paths(["web.yaml"], plain, socket.gethostname()) == of_paths([str(plain)], tmp_path, socket.gethostname()) == f"path:{socket.gethostname()}:{plain}"


def test_a_linked_work_tree_reads_its_main_repositorys_remote(tmp_path):
    main = _repo(tmp_path / "main", "https://github.com/acme/shop.git")
    (main / ".git" / "worktrees" / "wt").mkdir(parents=True)
    (main / ".git" / "worktrees" / "wt" / "commondir").write_text("../..\n")
    linked = tmp_path / "wt"
    (linked / "manifests").mkdir(parents=True)
    (linked / ".git").write_text(f"gitdir: {main / '.git' / 'worktrees' / 'wt'}\n")
    assert of_paths(["manifests"], linked, socket.gethostname()) == "git:github.com/acme/shop"


def test_prune_keeps_pods_and_volumes_another_source_applied():
    host = applied(state(webserver()), origin=A)
    pruned = differ.compute(DesiredState(), host, "demo", prune=True, prune_volumes=True, origin=B)
    assert pruned.pods == () and pruned.volumes == ()
    assert not pruned.has_changes
    assert any(k.startswith("pod dynamic-webserver: applied from git:github.com/acme/shop,") for k in pruned.kept)
    assert any(k.startswith("volume webserver-data:") and "--force-conflicts" in k for k in pruned.kept)
    forced = differ.compute(DesiredState(), host, "demo", prune=True, prune_volumes=True, origin=B, force_conflicts=True)
    assert [(p.name, p.action) for p in forced.pods] == [("dynamic-webserver", Action.REMOVE)]
    assert [(v.name, v.action) for v in forced.volumes] == [("webserver-data", Action.REMOVE)]
    own = differ.compute(DesiredState(), host, "demo", prune=True, prune_volumes=True, origin=A)
    assert [p.action for p in own.pods] == [Action.REMOVE] and own.kept == ()


def test_objects_without_a_recorded_source_are_pruned_only_when_asked():
    host = applied(state(webserver()))  # an older podspec: no origin label
    pruned = differ.compute(DesiredState(), host, "demo", prune=True, prune_volumes=True, origin=B)
    assert pruned.pods == () and pruned.volumes == ()
    assert "recorded no source" in pruned.kept[0]
    # ... but the manifests that name them may change them (and the new objects record the source)
    after = state(with_container(webserver(), "apache-httpd", image="docker.io/library/httpd:2.5"))
    changed = differ.compute(after, host, "demo", origin=B)
    assert changed.conflicts == ()
    plan = planner.build(changed)
    created = [s for s in plan.steps if s.kind is planner.StepKind.CREATE_CONTAINER]
    assert created and all((L.ORIGIN, B) in s.labels for s in created)


def test_changing_another_sources_pod_is_a_conflict_unless_forced():
    before = state(webserver())
    host = applied(before, origin=A)
    after = state(with_container(webserver(), "apache-httpd", image="docker.io/library/httpd:2.5"))
    result = differ.compute(after, host, "demo", origin=B)
    assert result.pods[0].action is Action.CONFLICT
    assert "applied from another source, git:github.com/acme/shop," in result.pods[0].cause
    with pytest.raises(Exception, match="--force-conflicts"):
        planner.build(result)
    # the same spec from the other source changes nothing
    assert not differ.compute(before, host, "demo", origin=B).has_changes
    taken = differ.compute(before, host, "demo", origin=B, force_conflicts=True)
    assert taken.pods[0].action is Action.REPLACE and "taken over" in taken.pods[0].cause
    assert all((L.ORIGIN, B) in s.labels for s in planner.build(taken).steps if s.kind is planner.StepKind.CREATE_POD)


def test_another_sources_volume_is_used_as_it_is_never_removed():
    host = applied(state(webserver()), origin=A)
    host = replace(host, pods=(), containers=())
    result = differ.compute(state(webserver()), host, "demo", origin=B)
    assert result.volumes == () and result.conflicts == ()


def test_created_objects_carry_the_source():
    plan = planner.build(differ.compute(state(webserver()), applied(DesiredState()), "demo", origin=A))
    creates = [s for s in plan.steps if s.kind.value.startswith("create_") and s.kind is not planner.StepKind.CREATE_SUB_PATH]
    assert creates and all(dict(s.labels)[L.ORIGIN] == A for s in creates)


def test_delete_leaves_another_sources_objects_alone():
    desired = state(webserver())
    host = applied(desired, origin=A)
    decided = deletion.plan(desired, host, "demo", volumes=True, origin=B)
    assert decided.plan.steps == ()
    assert any("pod dynamic-webserver: applied from another source" in s for s in decided.skipped)
    assert any("volume webserver-data: made from another source" in s for s in decided.skipped)
    forced = deletion.plan(desired, host, "demo", volumes=True, origin=B, force_conflicts=True)
    assert {s.target for s in forced.plan.steps} >= {"dynamic-webserver", "webserver-data"}
