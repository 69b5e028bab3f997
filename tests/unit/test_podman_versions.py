"""What needs which Podman (reconcile/pulls.unsupported) and the plan steps Podman 5 abilities take."""

from __future__ import annotations

from podspec.loader import load
from podspec.model import PullPolicy
from podspec.observed import ObservedState
from podspec.plan import StepKind
from podspec.reconcile import pulls
from podspec.reconcile.diff import compute
from podspec.reconcile.planner import build

PODS = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
    - name: main
      image: docker.io/library/busybox:1.36
      volumeMounts:
        - {name: data, mountPath: /data, subPath: site}
        - {name: site, mountPath: /site}
        - {name: site, mountPath: /docs, subPath: usr/share/doc}
  volumes:
    - name: data
      persistentVolumeClaim: {claimName: web-data}
    - name: site
      image: {reference: docker.io/library/httpd:2.4}
"""


def desired(tmp_path):
    path = tmp_path / "pods.yaml"
    path.write_text(PODS)
    return load([str(path)])


def test_podman_4_3_refuses_sub_paths_naming_the_version_and_takes_image_volumes(tmp_path):
    assert pulls.needs_version_check(desired(tmp_path))
    assert pulls.unsupported(desired(tmp_path), "4.2.0")[0] == (
        "web: volume site is an image volume (docker.io/library/httpd:2.4): an image volume needs Podman 4.3 or newer "
        "(this host runs 4.2.0)")
    assert pulls.unsupported(desired(tmp_path), "4.3.1") == [
        "web/main mounts data with subPath 'site': subPath on a persistentVolumeClaim or emptyDir mount needs Podman 5.0 "
        "or newer (this host runs 4.3.1, which would ignore it)",
        "web/main mounts site with subPath 'usr/share/doc': subPath on an image volume needs Podman 5.1 or newer "
        "(this host runs 4.3.1)",
    ]
    assert pulls.unsupported(desired(tmp_path), "5.0.1") == [
        "web/main mounts site with subPath 'usr/share/doc': subPath on an image volume needs Podman 5.1 or newer "
        "(this host runs 5.0.1)",
    ]
    assert pulls.unsupported(desired(tmp_path), "5.4.2") == []


def test_an_image_volume_is_an_image_to_pull(tmp_path):
    needs = {n.reference: n for n in pulls.needs(desired(tmp_path), ObservedState())}
    assert needs["docker.io/library/httpd:2.4"].policy is PullPolicy.IF_NOT_PRESENT
    assert needs["docker.io/library/httpd:2.4"].users == ("web/volume site",)


def test_a_sub_path_of_a_named_volume_is_made_after_create_and_before_start(tmp_path):
    plan = build(compute(desired(tmp_path), ObservedState(), "p"))
    steps = [(s.kind, s.target, s.path) for s in plan.steps]
    create = steps.index((StepKind.CREATE_CONTAINER, "web-main", ""))
    assert steps[create + 1] == (StepKind.CREATE_SUB_PATH, "web-main", "/data/site")
    assert steps[create + 2][0] is StepKind.START_POD
    # only named volumes: an image volume's subPath is Podman's to resolve
    assert sum(kind is StepKind.CREATE_SUB_PATH for kind, _, _ in steps) == 1
    assert plan.steps[create + 1].describe() == "create sub-path directory /data/site in web-main"
