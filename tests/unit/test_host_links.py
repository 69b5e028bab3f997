"""Issue 27: hostPath mounts are what they resolve to on the host (pure decision; the engine
resolves)."""

from __future__ import annotations

from podspec.loader import load
from podspec.policy import Policy, Profile, host_path_candidates, link_problems

POD = """\
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
    - name: app
      image: alpine
      volumeMounts:
        - {name: h, mountPath: /h, subPath: logs}
  initContainers:
    - name: prep
      image: alpine
      volumeMounts:
        - {name: h, mountPath: /h}
  volumes:
    - {name: h, hostPath: {path: /srv/app}}
"""
POLICY = Policy(Profile.BASELINE, host_paths=frozenset({"/srv"}))


def _state(tmp_path):
    (tmp_path / "pod.yaml").write_text(POD)
    return load([str(tmp_path / "pod.yaml")])


def test_every_mount_is_resolved_subpath_included(tmp_path):
    mounts, roots = host_path_candidates(_state(tmp_path), POLICY)
    assert mounts == ("/srv/app", "/srv/app/logs") and roots == ("/srv",)
    assert host_path_candidates(_state(tmp_path), Policy(Profile.PRIVILEGED)) == ((), ())


def test_a_link_out_of_the_allowed_tree_is_refused_at_the_mount_that_uses_it(tmp_path):
    resolved = {"/srv/app": "/srv/app", "/srv/app/logs": "/var/lib/secret", "/srv": "/srv"}
    (problem,) = link_problems(_state(tmp_path), POLICY, resolved)
    assert "hostPath /srv/app/logs (container app) leads to /var/lib/secret through a symbolic link" in str(problem)


def test_an_allowed_directory_that_is_itself_a_link_still_allows_what_is_in_it(tmp_path):
    resolved = {"/srv/app": "/data/srv/app", "/srv/app/logs": "/data/srv/app/logs", "/srv": "/data/srv"}
    assert link_problems(_state(tmp_path), POLICY, resolved) == ()


def test_a_host_whose_files_cannot_be_seen_is_refused_not_trusted(tmp_path):
    resolved = {"/srv/app": None, "/srv/app/logs": None, "/srv": None}
    problems = [str(p) for p in link_problems(_state(tmp_path), POLICY, resolved)]
    assert len(problems) == 2 and all("cannot be checked for symbolic links on this host" in p for p in problems)
