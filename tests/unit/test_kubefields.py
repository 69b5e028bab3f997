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


# ------------------------------------------------------------------ NodePort and LoadBalancer

HTTPD = "docker.io/library/httpd:2.4"
PUBLISHED = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: httpd
        image: docker.io/library/httpd:2.4
        ports: [{containerPort: 80, name: http}]
---
apiVersion: v1
kind: Service
metadata: {name: front}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 8080, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: edge}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: 8081, targetPort: 80}]
"""


def published_engine(**options) -> FakeEngine:
    return FakeEngine(images=(BUSYBOX, HTTPD), **options)


def applied(engine: FakeEngine, tmp_path: Path, text: str, name: str = "app.yaml", **options):
    request = ApplyRequest(Manifests((write(tmp_path, text, name),)), project="shop", **options)
    return apply(request, lambda: engine)


def ids(engine: FakeEngine) -> dict[str, str]:
    return {name: c.id for name, c in engine.containers.items() if not name.endswith("-infra")}


def test_a_node_port_is_chosen_from_the_name_and_stays_the_same(tmp_path):
    from podspec.loader.balancers import balancer_name

    first = load([write(tmp_path, PUBLISHED)])
    again = load([write(tmp_path, PUBLISHED.replace("name: edge", "name: edge2"), "b.yaml")])
    [port] = next(s for s in first.services if s.name == "front").ports
    assert 30000 <= port.node_port <= 32767
    assert next(s for s in again.services if s.name == "front").ports[0].node_port == port.node_port
    lb = {p.name: p for p in first.pods}
    assert set(lb) == {"web-pod", "web-pod-1", balancer_name("front"), balancer_name("edge")}
    [front] = lb["svclb-front"].containers
    assert [(m.container_port, m.host_port) for m in front.ports] == [(port.node_port, port.node_port)]
    assert front.command == ("nc", "-ll", "-p", str(port.node_port), "-e", "nc", "front", "8080")
    [edge] = lb["svclb-edge"].containers
    assert [(m.container_port, m.host_port) for m in edge.ports] == [(8081, 8081)]
    assert lb["svclb-edge"].workload == "Service edge"


@pytest.mark.parametrize("change, message", [
    ("  ports: [{port: 8080, targetPort: http, nodePort: 8080}]",
     "spec.ports[0].nodePort: nodePort 8080 is outside 30000-32767"),
    ("  ports: [{port: 8080, targetPort: http, protocol: UDP}]",
     "spec.ports[0].protocol: a NodePort Service port is published on the host by a forwarder that carries TCP only"),
    ("  clusterIP: None\n  ports: [{port: 8080, targetPort: http}]",
     "spec.clusterIP: a headless Service (clusterIP: None) cannot be of type NodePort"),
])
def test_what_a_published_service_cannot_be_is_refused_where_it_is_written(tmp_path, change, message):
    from podspec.errors import ManifestError

    text = PUBLISHED.replace("  ports: [{port: 8080, targetPort: http}]", change)
    with pytest.raises(ManifestError) as caught:
        load([write(tmp_path, text)])
    assert any(message in str(p) for p in caught.value.problems), [str(p) for p in caught.value.problems]


def test_two_services_on_one_host_port_and_a_pod_named_like_a_balancer_are_refused(tmp_path):
    from podspec.errors import ManifestError

    text = PUBLISHED.replace("ports: [{port: 8080, targetPort: http}]",
                             "ports: [{port: 8080, targetPort: http, nodePort: 30080}]")
    text += "---\n" + text.split("---\n")[1].replace("name: front", "name: other").replace("8080,", "9090,")
    text += "---\napiVersion: v1\nkind: Pod\nmetadata: {name: svclb-edge}\nspec:\n  containers: [{name: a, image: busybox}]\n"
    with pytest.raises(ManifestError) as caught:
        load([write(tmp_path, text)])
    said = [str(p) for p in caught.value.problems]
    assert any("spec.ports[0].nodePort: host port 30080 is published by Service front too" in p for p in said), said
    assert any("podspec publishes it with a pod named svclb-edge, which the manifests already define" in p for p in said), said


def test_a_load_balancers_node_port_is_a_warning(tmp_path):
    desired = load([write(tmp_path, PUBLISHED.replace("ports: [{port: 8081, targetPort: 80}]",
                                                      "ports: [{port: 8081, targetPort: 80, nodePort: 31000}]"))])
    assert any("nodePort is not published on a single Podman host for a LoadBalancer" in w.message
               for w in desired.warnings)


def test_published_services_apply_change_little_and_export_back(tmp_path):
    from podspec.run.export import ExportRequest, export

    engine = published_engine()
    first = applied(engine, tmp_path, PUBLISHED)
    assert first.outcome is Outcome.APPLIED
    node_port = next(s for s in load([str(tmp_path / "app.yaml")]).services if s.name == "front").ports[0].node_port
    causes = {p.name: p.cause for p in first.diff.pods}
    assert causes["svclb-front"] == f"not on the host: publishes Service front on host port {node_port}"
    assert causes["svclb-edge"] == "not on the host: publishes Service edge on host port 8081"
    published = {(m["host_port"], m["container_port"]) for p in engine.pods.values()
                 for m in p.body.get("portmappings", ())}
    assert published == {(node_port, node_port), (8081, 8081)}
    before = ids(engine)

    # Export: the NodePort Service with its nodePort, no balancer pod; applied back, no change.
    exported = export(ExportRequest(all_pods=True), lambda: engine)
    assert "svclb" not in exported.text
    assert "type: NodePort" in exported.text and f"nodePort: {node_port}" in exported.text
    assert "type: LoadBalancer" in exported.text
    assert {n.split()[1] for n in exported.notes if "svclb" in n} == {"svclb-front", "svclb-edge"}
    back = write(tmp_path, exported.text, "export.yaml")
    assert not diff(ApplyRequest(Manifests((back,)), project="shop"), lambda: engine).diff.has_changes

    # The selector changes: names change, and the proxies the Service no longer needs go; no container
    # is recreated, no balancer touched.
    relabelled = PUBLISHED.replace("app: web}\n  ports: [{port: 8081", "tier: none}\n  ports: [{port: 8081")
    changed = applied(engine, tmp_path, relabelled)
    assert changed.outcome is Outcome.APPLIED
    after = ids(engine)
    assert all(before[n] == after[n] for n in after)
    assert set(before) - set(after) == {"web-pod-svc-proxy-8081", "web-pod-1-svc-proxy-8081"}
    before = after

    # A port changes: the balancer of that Service is replaced, nothing else.
    moved = relabelled.replace("port: 8081, targetPort: 80", "port: 8082, targetPort: 80")
    applied(engine, tmp_path, moved)
    now = ids(engine)
    assert {n for n in now if now[n] != before.get(n)} == {"svclb-edge-lb-8082"}
    assert "svclb-edge-lb-8081" not in now

    # ClusterIP again: the balancer goes (without --prune), the pods stay.
    plain = moved.replace("  type: LoadBalancer\n", "")
    result = applied(engine, tmp_path, plain)
    assert [(p.name, p.action.value) for p in result.diff.pods] == [("svclb-edge", "remove")]
    assert "not published on the host any more" in result.diff.pods[0].cause
    assert "svclb-edge" not in engine.pods and "svclb-front" in engine.pods



def test_a_taken_host_port_is_named_before_any_change(tmp_path):
    from podspec.errors import ConflictError

    engine = published_engine()
    engine.busy_ports.add((8081, "tcp"))
    with pytest.raises(ConflictError, match="pod svclb-edge: host port 8081/tcp is in use"):
        applied(engine, tmp_path, PUBLISHED)
    assert not engine.pods


def test_the_policy_and_rootless_limits_see_the_published_ports(tmp_path):
    from podspec.errors import ManifestError, RootlessLimitError
    from podspec.policy import Policy, Profile

    path = write(tmp_path, PUBLISHED.replace("port: 8081, targetPort: 80", "port: 80, targetPort: 80"))
    engine = published_engine(rootless=True, port_start=1024)
    with pytest.raises(RootlessLimitError) as caught:
        apply(ApplyRequest(Manifests((path,)), project="shop"), lambda: engine)
    said = str(caught.value.problems[0])
    assert ":29:12: spec.ports[0].port:" in said and "host port 80" in said, said  # the Service's port
    assert not engine.pods
    restricted = Manifests((path,), policy=Policy(Profile.RESTRICTED))
    with pytest.raises(ManifestError) as refused:
        apply(ApplyRequest(restricted, project="shop"), lambda: published_engine())
    said = [str(p).split("m.yaml:")[1] for p in refused.value.problems if "host port" in str(p)]
    node_port = next(s for s in load([path]).services if s.name == "front").ports[0].node_port
    assert said == [f"21:11: spec.ports[0].nodePort: restricted: host port {node_port} is not allowed "
                    f"(--allow-host-port {node_port} allows exactly this port; or use --policy baseline)",
                    "29:12: spec.ports[0].port: restricted: host port 80 is not allowed "
                    "(--allow-host-port 80 allows exactly this port; or use --policy baseline)"]


# ------------------------------------------------------------------ hostPath DirectoryOrCreate / FileOrCreate

HOST_PATHS = """\
apiVersion: v1
kind: Pod
metadata: {name: files}
spec:
  containers:
  - name: app
    image: docker.io/library/busybox:latest
    command: [sleep, "1000"]
    volumeMounts:
    - {name: data, mountPath: /data}
    - {name: log, mountPath: /log/app.log}
  volumes:
  - name: data
    hostPath: {path: /srv/kf/data, type: DirectoryOrCreate}
  - name: log
    hostPath: {path: /srv/kf/app.log, type: FileOrCreate}
"""


def test_host_paths_to_create_are_plan_steps_before_the_pod_and_only_when_it_is_made(tmp_path):
    from podspec.plan import StepKind

    engine = FakeEngine(images=(BUSYBOX,))
    result = applied(engine, tmp_path, HOST_PATHS)
    # after the project network the pod joins
    assert (result.plan.steps[0].kind, result.plan.steps[0].target) == (StepKind.CREATE_NETWORK, "podspec-shop")
    steps = [(s.kind, s.target) for s in result.plan.steps[1:]]
    made = [(StepKind.CREATE_HOST_PATH, "/srv/kf/data"), (StepKind.CREATE_HOST_PATH, "/srv/kf/app.log")]
    assert steps[:3] == [*made, (StepKind.CREATE_POD, "files")]
    causes = [s.cause for s in result.plan.steps[1:3]]
    assert "hostPath DirectoryOrCreate of volume data (pod files): made with its missing parents, mode 0755" in causes[0]
    assert "made empty, mode 0644 (its directory must exist)" in causes[1]
    assert result.plan.steps[1].describe() == "create host directory /srv/kf/data (if missing)"
    assert engine.host_paths == {"/srv/kf/data": "directory", "/srv/kf/app.log": "file"}
    again = applied(engine, tmp_path, HOST_PATHS)
    assert again.outcome is Outcome.NO_CHANGES and again.plan.empty
    # A new container that mounts one: the path again (left as it is when it exists), before it.
    more = HOST_PATHS.replace("  volumes:", "  - name: more\n    image: docker.io/library/busybox:latest\n"
                              "    volumeMounts: [{name: data, mountPath: /d}]\n  volumes:")
    steps = [(s.kind, s.target) for s in applied(engine, tmp_path, more).plan.steps]
    assert steps[:2] == [(StepKind.CREATE_HOST_PATH, "/srv/kf/data"), (StepKind.CREATE_CONTAINER, "files-more")]


def test_the_helper_image_is_pulled_when_missing_and_the_policy_has_its_say(tmp_path):
    from podspec.errors import ManifestError
    from podspec.policy import Policy, Profile

    engine = FakeEngine(images=(), pullable=(BUSYBOX,))
    applied(engine, tmp_path, HOST_PATHS.replace("image: docker.io/library/busybox:latest",
                                                  "image: docker.io/library/busybox:latest\n    imagePullPolicy: IfNotPresent"))
    assert BUSYBOX in {r for i in engine.images_.values() for r in i.names}
    path = write(tmp_path, HOST_PATHS, "p.yaml")
    with pytest.raises(ManifestError) as refused:
        apply(ApplyRequest(Manifests((path,), policy=Policy(Profile.BASELINE)), project="p"), lambda: FakeEngine(images=(BUSYBOX,)))
    said = [str(p) for p in refused.value.problems]
    assert any("hostPath volume /srv/kf/data is not allowed" in p for p in said), said
    allowed = Policy(Profile.BASELINE, host_paths=frozenset({"/srv/kf"}))
    ok = FakeEngine(images=(BUSYBOX,))
    assert apply(ApplyRequest(Manifests((path,), policy=allowed), project="p"), lambda: ok).outcome is Outcome.APPLIED


def test_the_helper_script_leaves_what_exists_and_makes_what_kube_play_makes(tmp_path):
    import subprocess

    from podspec.engine.hostpaths import command

    def run(path, kind):
        return subprocess.run(command(str(path), kind), capture_output=True, text=True, timeout=10)

    assert run(tmp_path / "a b" / "c", "DirectoryOrCreate").returncode == 0 and (tmp_path / "a b" / "c").is_dir()
    assert run(tmp_path / "x.log", "FileOrCreate").returncode == 0 and (tmp_path / "x.log").read_text() == ""
    (tmp_path / "x.log").write_text("kept")
    assert run(tmp_path / "x.log", "FileOrCreate").returncode == 0 and (tmp_path / "x.log").read_text() == "kept"
    said = run(tmp_path / "x.log", "DirectoryOrCreate")
    assert said.returncode == 3 and f"{tmp_path}/x.log exists and is not a directory" in said.stderr
    assert run(tmp_path / "a b", "FileOrCreate").returncode == 3
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    assert run(tmp_path / "dangling", "FileOrCreate").returncode == 0 and not (tmp_path / "nowhere").exists()
