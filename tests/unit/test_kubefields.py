"""What real applications' files need beyond Pods and ClusterIP Services (issue 22): fieldRef
spec.nodeName, NodePort and LoadBalancer Services, hostPath DirectoryOrCreate / FileOrCreate.
Pure parts with plain data, workflows on the FakeEngine."""

from __future__ import annotations

from pathlib import Path

import pytest

from podspec.engine.fake import FAKE_HOSTNAME, FakeEngine
from podspec.loader import load
from podspec.reconcile.nodename import with_node_name
from podspec.run.apply import ApplyRequest, apply, diff
from podspec.run.manifests import Manifests
from podspec.run.results import Outcome

BUSYBOX = "docker.io/library/busybox:latest"

NODE_NAME = """\
apiVersion: v1
kind: Pod
metadata: {name: where}
spec:
  initContainers:
  - name: first
    image: docker.io/library/busybox:latest
    command: [sh, -c, 'echo $NODE']
    env:
    - name: NODE
      valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
  containers:
  - name: app
    image: docker.io/library/busybox:latest
    command: [sleep, "1000"]
    env:
    - name: MY_NODE
      valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
    - {name: PLAIN, value: x}
"""


def write(tmp_path: Path, text: str, name: str = "m.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_node_name_is_marked_by_the_loader_and_filled_from_the_host(tmp_path):
    desired = load([write(tmp_path, NODE_NAME)])
    pod = desired.pods[0]
    assert desired.uses_node_name
    assert [(v.name, v.value, v.node_name) for v in pod.containers[0].env] == [("MY_NODE", "", True), ("PLAIN", "x", False)]
    filled = with_node_name(desired, "edge-1")
    assert dict(filled.pods[0].containers[0].effective_env()) == {"MY_NODE": "edge-1", "PLAIN": "x"}
    assert dict(filled.pods[0].init_containers[0].effective_env()) == {"NODE": "edge-1"}
    plain = load([write(tmp_path, NODE_NAME.replace("spec.nodeName", "metadata.name"), "n.yaml")])
    assert not plain.uses_node_name and with_node_name(plain, "edge-1") is plain


def test_node_name_reaches_the_container_from_one_host_read_and_is_no_change_next_time(tmp_path):
    engine = FakeEngine(images=(BUSYBOX,))
    request = ApplyRequest(Manifests((write(tmp_path, NODE_NAME),)), project="demo")
    result = apply(request, lambda: engine)
    assert result.outcome is Outcome.APPLIED
    assert [c.method for c in engine.calls].count("host") == 1
    env = engine.containers["where-app"].body["env"]
    assert env == {"MY_NODE": FAKE_HOSTNAME, "PLAIN": "x"}
    again = diff(request, lambda: engine)
    assert not again.diff.has_changes


def test_manifests_without_node_name_do_not_read_the_host_facts(tmp_path):
    engine = FakeEngine(images=(BUSYBOX,))
    text = NODE_NAME.replace("spec.nodeName", "metadata.name")
    apply(ApplyRequest(Manifests((write(tmp_path, text),)), project="demo"), lambda: engine)
    assert "host" not in [c.method for c in engine.calls]
    assert engine.containers["where-app"].body["env"]["MY_NODE"] == "where"


@pytest.mark.parametrize("field", ["status.podIP", "metadata.uid"])
def test_other_running_pod_fields_stay_refused(tmp_path, field):
    from podspec.errors import ManifestError

    with pytest.raises(ManifestError, match=f"fieldPath {field} is not supported"):
        load([write(tmp_path, NODE_NAME.replace("spec.nodeName", field))])
