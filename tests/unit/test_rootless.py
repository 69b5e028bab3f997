"""Rootless Podman: the limits found before any change (pure core and workflows on the FakeEngine),
the policy's reasoning about hostUsers, the host facts read from GET /info, and the user/system
directories for locks and state."""

from __future__ import annotations

import os
from pathlib import Path
from textwrap import dedent

import pytest

from podspec.engine import parse
from podspec.engine.fake import FakeEngine
from podspec.errors import PodspecError, RootlessLimitError
from podspec.loader import load
from podspec.observed import HostFacts
from podspec.policy import Policy, Profile, check
from podspec.reconcile import rootless
from podspec.run import paths
from podspec.run.apply import ApplyRequest, DiffRequest, apply, diff
from podspec.run.manifests import Manifests

IMAGES = ("docker.io/library/httpd:2.4", "docker.io/library/alpine:latest", "docker.io/library/busybox:latest")
ROOTLESS = HostFacts(rootless=True, uid=1000, unprivileged_port_start=1024, version="4.3.1")
ROOT = HostFacts(rootless=False, uid=0, unprivileged_port_start=1024, version="4.3.1")
WHAT_INSTEAD = "or apply these manifests with root Podman"

LIMITED = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: app
      image: docker.io/library/alpine:latest
      ports:
        - containerPort: 80
          hostPort: 80
        - containerPort: 81
          hostPort: 8081
      securityContext:
        capabilities:
          add: [SYS_TIME, NET_ADMIN, CHOWN]
      volumeMounts:
        - {name: secret, mountPath: /secret}
  volumes:
    - name: secret
      hostPath: {path: /srv/secret}
---
apiVersion: v1
kind: Pod
metadata:
  name: net
spec:
  hostNetwork: true
  containers:
    - name: app
      image: docker.io/library/alpine:latest
      ports:
        - containerPort: 443
        - containerPort: 8443
      securityContext:
        capabilities:
          add: [NET_RAW]
"""


@pytest.fixture
def limited(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("pods.yaml").write_text(LIMITED)
    return load(["pods.yaml"])


def test_each_limit_is_found_with_its_place_and_what_to_do(limited):
    problems = rootless.limits(limited, ROOTLESS, {"/srv/secret": False})
    texts = [str(p) for p in problems]
    assert [t.split(" (", 1)[0].split(": rootless")[0] for t in texts] == [
        "pods.yaml:11:11: spec.containers[0].ports[0].hostPort",
        "pods.yaml:16:11: spec.containers[0].securityContext.capabilities.add",
        "pods.yaml:21:18: spec.volumes[0].hostPath.path",
        "pods.yaml:33:11: spec.containers[0].ports[0].containerPort",
        "pods.yaml:37:11: spec.containers[0].securityContext.capabilities.add",
    ]
    assert texts[0].startswith(
        "pods.yaml:11:11: spec.containers[0].ports[0].hostPort: rootless (uid 1000) Podman: host port 80 cannot be "
        "published: it is below 1024 (net.ipv4.ip_unprivileged_port_start is 1024 on this host) (use a hostPort of "
        "1024 or above (e.g. 8080), or apply these manifests with root Podman")
    assert "sysctl net.ipv4.ip_unprivileged_port_start=80" in texts[0]
    assert "cannot hold capability SYS_TIME: the clock is the host's" in texts[1]
    assert "NET_ADMIN" not in texts[1]  # its own network namespace: NET_ADMIN works there
    assert "hostPath /srv/secret cannot be mounted: the user Podman runs as (uid 1000) cannot read it" in texts[2]
    assert "with hostNetwork the container binds port 443 on the host itself" in texts[3]
    assert "cannot hold capability NET_RAW: with hostNetwork the network is the host's" in texts[4]
    assert all(WHAT_INSTEAD in t for t in texts)


def test_root_podman_has_no_such_limits(limited):
    assert rootless.limits(limited, ROOT, {"/srv/secret": False}) == ()


def test_a_lowered_port_start_is_honoured_and_an_unknown_one_assumed(limited):
    low = HostFacts(rootless=True, uid=1000, unprivileged_port_start=80)
    assert not any("hostPort" in p.path for p in rootless.limits(limited, low, {}))
    unknown = HostFacts(rootless=True, uid=1000, unprivileged_port_start=None)
    text = str(rootless.limits(limited, unknown, {})[0])
    assert "could not be read on this host; assuming Linux's default, 1024" in text


def test_an_unknown_or_readable_host_path_is_not_a_problem(limited):
    for known in ({}, {"/srv/secret": True}, {"/srv/secret": None}):
        assert not any("hostPath" in p.path for p in rootless.limits(limited, ROOTLESS, known))


def test_the_workflows_refuse_before_any_change_and_name_the_podman(limited):
    engine = FakeEngine(images=IMAGES, rootless=True, unreadable={"/srv/secret"})
    policy = Policy(Profile.PRIVILEGED)
    for run in (lambda: diff(DiffRequest(Manifests(("pods.yaml",), policy), "demo"), lambda: engine),
                lambda: apply(ApplyRequest(Manifests(("pods.yaml",), policy), "demo"), lambda: engine)):
        with pytest.raises(RootlessLimitError) as caught:
            run()
        assert len(caught.value.problems) == 5
        assert caught.value.message.startswith("5 problems with rootless (uid 1000) Podman 4.3.1 at fake://")
        assert "nothing was changed on the host" in caught.value.hint
    assert engine.pods == {} and engine.containers == {} and engine.volumes == {}
    assert engine.changes() == [] and engine.count("pull") == 0  # the host was read (run/reading.py), never changed


def test_the_tutorial_applies_rootless_without_asking_podman_what_it_is(tmp_path):
    """Its host port (8080) is above the port start, known without GET /info (which costs Podman a
    few hundred ms): the service is not asked."""
    tutorial = str(Path(__file__).resolve().parents[2] / "manifests" / "webserver.yaml")
    engine = FakeEngine(images=IMAGES, pullable=IMAGES, rootless=True)
    apply(ApplyRequest(Manifests((tutorial,)), "demo"), lambda: engine)
    assert engine.count("host") == 0 and "dynamic-webserver" in engine.pods
    low = FakeEngine(images=IMAGES, pullable=IMAGES, rootless=True, port_start=9000)
    with pytest.raises(RootlessLimitError):
        apply(ApplyRequest(Manifests((tutorial,)), "demo"), lambda: low)
    assert low.count("host") == 1


def test_root_podman_is_not_asked_either(limited):
    engine = FakeEngine(images=IMAGES, pullable=IMAGES)
    diff(DiffRequest(Manifests(("pods.yaml",), Policy(Profile.PRIVILEGED)), "demo"), lambda: engine)
    assert engine.count("host") == 0


def test_manifests_that_cannot_meet_a_limit_cost_no_call(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("p.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
                              "    - {name: a, image: docker.io/library/alpine:latest}\n")
    engine = FakeEngine(images=IMAGES, rootless=True)
    diff(DiffRequest(Manifests(("p.yaml",)), "demo"), lambda: engine)
    assert engine.count("host") == 0


# -- the facts -------------------------------------------------------------------------------------

def test_host_facts_from_info():
    info = {"host": {"security": {"rootless": True}, "idMappings": {
        "uidmap": [{"container_id": 0, "host_id": 1001, "size": 1}, {"container_id": 1, "host_id": 100000, "size": 65536}]}}}
    assert parse.host_facts(info, "4.3.1", 1024) == HostFacts(True, 1001, 1024, "4.3.1")
    assert parse.host_facts({"host": {"security": {"rootless": False}}}, "5.4.2", None) == HostFacts(False, 0, None, "5.4.2")
    assert HostFacts(True, 1001).kind == "rootless (uid 1001)" and ROOT.kind == "root"


def test_readable_for_another_uid_follows_modes(tmp_path):
    from podspec.engine import local

    secret = tmp_path / "secret"
    secret.mkdir(mode=0o700)
    other = 54321
    assert local.readable(str(secret), other) is False
    assert local.readable("/usr/share", other) is True
    assert local.readable(str(tmp_path / "missing"), other) is None
    assert local.readable(str(secret), 0) is True


# -- the policy and user namespaces ----------------------------------------------------------------

def _restricted_root_pod(host_users: str) -> str:
    return dedent(f"""\
        apiVersion: v1
        kind: Pod
        metadata: {{name: web}}
        spec:
          {host_users}
          containers:
            - name: app
              image: docker.io/library/alpine:latest
              securityContext:
                runAsUser: 0
                allowPrivilegeEscalation: false
                seccompProfile: {{type: RuntimeDefault}}
                capabilities: {{drop: [ALL]}}
        """)


def test_restricted_relaxes_run_as_root_for_a_private_user_namespace(tmp_path, monkeypatch):
    """As the Pod Security Standards do (KEP-127): with hostUsers: false, root in the container is
    not root on the host, so runAsNonRoot and runAsUser are not required; capabilities are not relaxed."""
    monkeypatch.chdir(tmp_path)
    Path("shared.yaml").write_text(_restricted_root_pod("hostUsers: true"))
    Path("private.yaml").write_text(_restricted_root_pod("hostUsers: false"))
    restricted = Policy(Profile.RESTRICTED)
    shared = [p.message for p in check(load(["shared.yaml"]), restricted)]
    assert "restricted: runAsNonRoot must be true" in shared and "restricted: runAsUser must not be 0 (root)" in shared
    assert check(load(["private.yaml"]), restricted) == ()


def test_baseline_allows_unmasked_proc_only_in_a_private_user_namespace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    body = ("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostUsers: %s\n  containers:\n"
            "    - name: a\n      image: docker.io/library/alpine:latest\n      securityContext: {procMount: Unmasked}\n")
    Path("a.yaml").write_text(body % "true")
    Path("b.yaml").write_text(body % "false")
    assert [p.message for p in check(load(["a.yaml"]), Policy())] == ["baseline: procMount Unmasked is not allowed"]
    assert check(load(["b.yaml"]), Policy()) == ()


# -- the directories -------------------------------------------------------------------------------

def test_root_uses_system_directories_and_users_their_own(tmp_path):
    assert paths.lock_dir({}, 0) == Path("/run/podspec/locks")
    assert paths.state_dir({"XDG_STATE_HOME": "/x"}, 0) == Path("/var/lib/podspec")
    assert paths.lock_dir({"XDG_RUNTIME_DIR": "/run/user/1000"}, 1000) == Path("/run/user/1000/podspec/locks")
    assert paths.state_dir({"XDG_STATE_HOME": "/home/u/.st"}, 1000) == Path("/home/u/.st/podspec")
    assert paths.state_dir({"HOME": "/home/u"}, 1000) == Path("/home/u/.local/state/podspec")
    # no runtime directory at all: one of the user's own under /tmp, never one shared by users
    assert paths.runtime_dir({"TMPDIR": str(tmp_path)}, 987654) == tmp_path / "podspec-987654"


def test_a_directory_someone_else_made_is_refused(tmp_path):
    theirs = tmp_path / "podspec-1"
    theirs.mkdir(mode=0o777)
    os.chmod(theirs, 0o777)
    with pytest.raises(PodspecError) as caught:
        paths.private_dir(theirs, 12345)
    assert "belongs to someone else or others may write to it" in caught.value.message
    assert "XDG_RUNTIME_DIR" in caught.value.hint


def test_host_users_false_needs_podman_5_through_the_api(tmp_path, monkeypatch):
    from podspec.reconcile import pulls

    monkeypatch.chdir(tmp_path)
    Path("p.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostUsers: false\n  containers:\n"
                              "    - {name: a, image: docker.io/library/alpine:latest}\n")
    desired = load(["p.yaml"])
    assert pulls.needs_version_check(desired)
    assert pulls.unsupported(desired, "4.3.1") == [
        "p: hostUsers: false (a private user namespace) through Podman's API needs Podman 5.0 or newer "
        "(this host runs 4.3.1); podman kube play gives it one on this version"]
    assert pulls.unsupported(desired, "5.4.2") == []


def test_info_says_which_podman_on_the_fake(tmp_path):
    from podspec import render
    from podspec.run.info import info

    result = info(lambda: FakeEngine(rootless=True, uid=1001, version="5.4.2"), tmp_path / "locks", tmp_path / "state")
    text = render.info_text(result)
    assert text.splitlines()[0] == "Podman 5.4.2, rootless (uid 1001)"
    assert "host ports it can publish: from 1024 (net.ipv4.ip_unprivileged_port_start)" in text
    data = render.info_json(result)
    assert data["podman"] == {"version": "5.4.2", "rootless": True, "uid": 1001, "url": result.url,
                              "chosen_by": "unknown", "unprivileged_port_start": 1024}
    root = render.info_text(info(lambda: FakeEngine(), tmp_path / "l", tmp_path / "s"))
    assert root.splitlines()[0] == "Podman 4.3.1, root" and "host ports" not in root


def test_resources_need_their_controller_delegated(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("p.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n"
                              "    - name: a\n      image: docker.io/library/alpine:latest\n"
                              "      resources: {limits: {cpu: 500m, memory: 64Mi}}\n")
    desired = load(["p.yaml"])
    assert rootless.needs_check(desired, 1024)
    v1 = HostFacts(rootless=True, uid=1000, cgroup_controllers=(), cgroup_version="v1")
    texts = [str(p) for p in rootless.limits(desired, v1, {})]
    assert texts[0].startswith(
        "p.yaml:8:7: spec.containers[0].resources: rootless (uid 1000) Podman: cpu requests and limits would be ignored: "
        "on cgroups v1 rootless Podman sets no limits at all (cgroups v1; controllers the user has: none)")
    assert "memory requests and limits would be ignored" in texts[1]
    v2 = HostFacts(rootless=True, uid=1000, cgroup_controllers=("memory", "pids"), cgroup_version="v2")
    texts = [str(p) for p in rootless.limits(desired, v2, {})]
    assert len(texts) == 1 and "cpu requests and limits would be ignored: the cpu controller is not delegated" in texts[0]
    unknown = HostFacts(rootless=True, uid=1000)
    assert rootless.limits(desired, unknown, {}) == ()
    assert parse.host_facts({"host": {"security": {"rootless": True}, "cgroupControllers": [], "cgroupVersion": "v1"}},
                            "4.3.1", 1024).cgroup_controllers == ()
