"""Files written for `podman kube play`, and Kubernetes examples, load as Podman would run them.

What Podman takes and a Kubernetes API server refuses (a pod named with capitals, `protocol: tcp`,
`imagePullPolicy: missing`, a label value with spaces) is accepted with a warning naming the value
and the Kubernetes rule; cluster-only things (extended resources, a network disk, a second probe that
differs) are accepted and reported as not applied. `strict=True` makes every one an error.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from podspec.errors import ManifestError
from podspec.loader import load
from podspec.model import Protocol, PullPolicy, VolumeKind

KUBE_PLAY = """\
apiVersion: v1
kind: Pod
metadata:
  name: playPod
  labels: {role: "web front end"}
spec:
  containers:
  - name: web_1
    image: httpd:2.4
    imagePullPolicy: missing
    ports:
    - {containerPort: 80, hostPort: 8080, protocol: tcp}
    - {containerPort: 53, protocol: udp}
"""

DISKS = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: httpd:2.4
        volumeMounts:
        - {name: shared, mountPath: /srv}
        - {name: disk, mountPath: /disk}
      volumes:
      - name: shared
        nfs: {server: nfs.example.com, path: /exports/web, readOnly: false}
      - name: disk
        awsElasticBlockStore: {volumeID: vol-0123, fsType: ext4}
"""


def write(tmp_path: Path, text: str, name: str = "pod.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_podman_spellings_are_applied_as_podman_reads_them_and_each_is_one_warning(tmp_path):
    path = write(tmp_path, KUBE_PLAY)
    state = load([path])
    pod = state.pods[0]
    assert pod.name == "playPod" and pod.containers[0].name == "web_1"
    assert pod.containers[0].pull_policy is PullPolicy.IF_NOT_PRESENT
    assert [p.protocol for p in pod.containers[0].ports] == [Protocol.TCP, Protocol.UDP]
    assert dict(pod.labels) == {"role": "web front end"}
    assert [(str(w.origin), w.path, w.message) for w in state.warnings] == [
        (f"{path}:4:9", "metadata.name", "name 'playPod' is taken by Podman but refused by a Kubernetes API server "
         "(a pod's name must be a DNS-1123 label)"),
        (f"{path}:5:18", "metadata.labels.role", "label value 'web front end' is taken by Podman but refused by a "
         "Kubernetes API server (at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit)"),
        (f"{path}:8:11", "spec.containers[0].name", "container name 'web_1' is taken by Podman but refused by a "
         "Kubernetes API server (it must be a DNS-1123 label)"),
        (f"{path}:10:22", "spec.containers[0].imagePullPolicy", "imagePullPolicy 'missing' is taken by Podman but "
         "refused by a Kubernetes API server (it knows Always, IfNotPresent and Never)"),
        (f"{path}:12:53", "spec.containers[0].ports[0].protocol", "protocol 'tcp' is taken by Podman but refused by "
         "a Kubernetes API server (it knows TCP, UDP and SCTP)"),
        (f"{path}:13:37", "spec.containers[0].ports[1].protocol", "protocol 'udp' is taken by Podman but refused by "
         "a Kubernetes API server (it knows TCP, UDP and SCTP)"),
    ]
    assert state.warnings[4].hint == "write TCP to run the same file on Kubernetes; --strict makes this an error"
    with pytest.raises(ManifestError) as refused:
        load([path], strict=True)
    assert [p.path for p in refused.value.problems] == [w.path for w in state.warnings]


@pytest.mark.parametrize("written, policy", [
    ("Always", PullPolicy.ALWAYS), ("always", PullPolicy.ALWAYS), ("IfNotPresent", PullPolicy.IF_NOT_PRESENT),
    ("Missing", PullPolicy.IF_NOT_PRESENT), ("ifnotpresent", PullPolicy.IF_NOT_PRESENT), ("never", PullPolicy.NEVER),
    ("newer", PullPolicy.ALWAYS), ("IfNewer", PullPolicy.ALWAYS),
])
def test_every_pull_policy_podman_parses(tmp_path, written, policy):
    text = KUBE_PLAY.replace("imagePullPolicy: missing", f"imagePullPolicy: {written}")
    assert load([write(tmp_path, text)]).pods[0].containers[0].pull_policy is policy


def test_names_podman_refuses_stay_errors(tmp_path):
    for name, fragment in (("web-{{uid}}", "must be a Podman name"), ("-web", "must be a Podman name")):
        with pytest.raises(ManifestError) as refused:
            load([write(tmp_path, KUBE_PLAY.replace("name: playPod", f"name: '{name}'"))])
        assert [p.path for p in refused.value.problems] == ["metadata.name"]
        assert fragment in refused.value.problems[0].message
    with pytest.raises(ManifestError) as refused:
        load([write(tmp_path, KUBE_PLAY.replace("protocol: tcp", "protocol: Tcp"))])
    assert refused.value.problems[0].path == "spec.containers[0].ports[0].protocol"


def test_cluster_storage_is_the_pods_own_named_volume_kept_like_a_claim(tmp_path):
    path = write(tmp_path, DISKS)
    state = load([path])
    pod = state.pods[0]
    assert [(v.name, v.kind, v.claim_name) for v in pod.volumes] == [
        ("shared", VolumeKind.CLAIM, "web-pod-shared"), ("disk", VolumeKind.CLAIM, "web-pod-disk")]
    assert state.volume_names() == ("web-pod-disk", "web-pod-shared")
    assert [(str(w.origin), w.path) for w in state.warnings] == [
        (f"{path}:19:9", "spec.template.spec.volumes[0].nfs"),
        (f"{path}:21:9", "spec.template.spec.volumes[1].awsElasticBlockStore"),
    ]
    assert state.warnings[0].message == (
        "nfs is cluster storage: on a single Podman host this volume is the Podman named volume web-pod-shared, "
        "made empty on this host and kept like a claim's (the cluster's data is not there)")
    with pytest.raises(ManifestError) as refused:
        load([path], strict=True)
    assert len(refused.value.problems) == 2


def test_a_reference_to_a_configmap_no_file_defines(tmp_path):
    text = KUBE_PLAY.replace("    imagePullPolicy: missing\n", "    envFrom:\n    - configMapRef: {name: settings}\n")
    path = write(tmp_path, text)
    with pytest.raises(ManifestError) as refused:  # diff and apply: the set must be complete
        load([path])
    assert [p.message for p in refused.value.problems] == ["ConfigMap settings is not defined in the manifests"]
    state = load([path], defined_elsewhere=True)  # validate: the file on its own
    (warning,) = [w for w in state.warnings if w.path.endswith("configMapRef.name")]
    assert warning.message == ("ConfigMap settings is not defined in these manifests: diff and apply need its "
                               "document among the manifests they read")
    assert "add a ConfigMap document named settings beside the pods" in warning.hint
    with pytest.raises(ManifestError) as strict:
        load([path], defined_elsewhere=True, strict=True)
    assert any("ConfigMap settings is not defined in these manifests" in p.message for p in strict.value.problems)
    config = tmp_path / "settings.yaml"
    config.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {MODE: fast}\n")
    assert load([path, str(config)]).pods[0].containers[0].effective_env() == (("MODE", "fast"),)


def test_an_http_probe_keeps_its_headers(tmp_path):
    text = KUBE_PLAY + ("    livenessProbe:\n      httpGet:\n        port: 80\n        httpHeaders:\n"
                        "        - {name: X-Custom-Header, value: Awesome}\n")
    probe = load([write(tmp_path, text)]).pods[0].containers[0].liveness_probe
    assert probe is not None and probe.headers == (("X-Custom-Header", "Awesome"),)
    bad = text.replace("X-Custom-Header", "'X Custom'")
    with pytest.raises(ManifestError) as refused:
        load([write(tmp_path, bad)])
    assert "must be an HTTP header name" in refused.value.problems[0].message


def test_every_secret_type_is_data_with_the_keys_kubernetes_requires(tmp_path):
    def secret(kind: str, data: str) -> str:
        return f"apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\ntype: {kind}\nstringData: {{{data}}}\n"

    for kind, data in (("kubernetes.io/tls", "tls.crt: c, tls.key: k"), ("kubernetes.io/basic-auth", "username: u"),
                       ("kubernetes.io/ssh-auth", "ssh-privatekey: k"), ("kubernetes.io/dockercfg", ".dockercfg: '{}'"),
                       ("example.com/custom", "anything: x")):
        state = load([write(tmp_path, secret(kind, data))])
        assert state.secrets[0].type == kind and state.warnings == ()
    for kind, message in (("kubernetes.io/tls", "a kubernetes.io/tls Secret needs the key tls.key"),
                          ("kubernetes.io/basic-auth", "a kubernetes.io/basic-auth Secret needs the key username or password")):
        with pytest.raises(ManifestError) as refused:
            load([write(tmp_path, secret(kind, "tls.crt: c"))])
        assert [p.message for p in refused.value.problems] == [message]
    token = load([write(tmp_path, secret("kubernetes.io/service-account-token", "token: t"))])
    assert [w.message for w in token.warnings] == [
        "type: kubernetes.io/service-account-token is ignored on a single Podman host (it is about a cluster's "
        "service account tokens; the data is used as written)"]


SIDECAR = """\
apiVersion: v1
kind: Pod
metadata: {name: app}
spec:
  initContainers:
  - name: migrate
    image: busybox
  - name: logship
    image: busybox
    restartPolicy: Always
    readinessProbe: {exec: {command: ["true"]}}
  containers:
  - name: web
    image: httpd:2.4
"""


def test_a_sidecar_init_container_runs_as_a_regular_container_with_a_warning(tmp_path):
    path = write(tmp_path, SIDECAR)
    state = load([path])
    pod = state.pods[0]
    assert [c.name for c in pod.init_containers] == ["migrate"]
    assert [c.name for c in pod.containers] == ["web", "logship"]
    assert pod.containers[1].readiness_probe is not None
    assert [(str(w.origin), w.path) for w in state.warnings] == [(f"{path}:10:5", "spec.initContainers[1].restartPolicy")]
    assert "runs as a regular container of the pod" in state.warnings[0].message
    with pytest.raises(ManifestError):
        load([path], strict=True)
    regular = SIDECAR.replace("  - name: web\n", "  - name: web\n    restartPolicy: Always\n")
    with pytest.raises(ManifestError) as refused:
        load([write(tmp_path, regular)])
    assert "only an init container takes it" in refused.value.problems[0].message


JOB = """\
apiVersion: batch/v1
kind: Job
metadata: {name: batch}
spec:
  backoffLimitPerIndex: 1
  podFailurePolicy:
    rules: [{action: FailJob, onExitCodes: {operator: In, values: [42]}}]
  template:
    spec:
      restartPolicy: Never
      containers: [{name: step, image: busybox}]
"""


def test_the_job_controllers_policies_are_warnings_and_a_typo_is_not_a_real_field(tmp_path):
    state = load([write(tmp_path, JOB)])
    assert sorted(w.path for w in state.warnings) == ["spec.backoffLimitPerIndex", "spec.podFailurePolicy"]
    with pytest.raises(ManifestError) as refused:
        load([write(tmp_path, JOB.replace("backoffLimitPerIndex", "backofLimit"))])
    assert refused.value.problems[0].hint == "did you mean backoffLimit?"


def test_pod_level_resources_are_the_pods_cgroup(tmp_path):
    from podspec.engine.specgen import pod_body

    text = KUBE_PLAY.replace("spec:\n  containers:", "spec:\n  resources:\n    limits: {cpu: 500m, memory: 200Mi, pids: 64}\n"
                             "    requests: {memory: 100Mi}\n  containers:")
    state = load([write(tmp_path, text)])
    resources = state.pods[0].resources
    assert (resources.cpu_limit_millis, resources.memory_limit_bytes, resources.memory_request_bytes) == (
        500, 200 * 2**20, 100 * 2**20)
    assert pod_body(state.pods[0], {})["resource_limits"] == {
        "cpu": {"quota": 50000, "period": 100000}, "memory": {"limit": 200 * 2**20, "reservation": 100 * 2**20}}
    assert "spec.resources.limits.pids" in [w.path for w in state.warnings]  # no pod pids limit on Podman
    with pytest.raises(ManifestError) as refused:
        load([write(tmp_path, text.replace("requests: {memory: 100Mi}", "requests: {memory: 300Mi}"))])
    assert [p.message for p in refused.value.problems] == ["memory request is above its limit"]


DOWNWARD = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast}
---
apiVersion: v1
kind: Pod
metadata:
  name: dapi
  namespace: shop
  labels: {zone: east, app: "a b"}
spec:
  containers:
  - name: client
    image: busybox
    resources: {limits: {cpu: 250m}}
    volumeMounts:
    - {name: info, mountPath: /etc/info}
    - {name: both, mountPath: /both}
  volumes:
  - name: info
    downwardAPI:
      defaultMode: 0400
      items:
      - {path: labels, fieldRef: {fieldPath: metadata.labels}}
      - {path: ns, fieldRef: {fieldPath: metadata.namespace}}
      - {path: cpu, resourceFieldRef: {containerName: client, resource: limits.cpu, divisor: 1m}}
  - name: both
    projected:
      sources:
      - configMap: {name: settings}
      - downwardAPI: {items: [{path: zone, fieldRef: {fieldPath: "metadata.labels['zone']"}}]}
      - serviceAccountToken: {path: token}
"""


def test_downward_api_files_hold_the_pods_fields_as_the_kubelet_writes_them(tmp_path):
    from podspec.engine.specgen import container_body
    from podspec.labels import Role

    state = load([write(tmp_path, DOWNWARD)])
    pod = state.pods[0]
    info, both = pod.volumes
    assert [(f.path, f.mode, f.ref.value) for f in info.files] == [
        ("cpu", 0o400, "250"), ("labels", 0o400, 'app="a b"\nzone="east"'), ("ns", 0o400, "shop")]
    assert [(f.path, f.ref.kind.value, f.ref.value) for f in both.files] == [
        ("mode", "configMap", ""), ("zone", "downwardAPI", "east")]
    assert sorted(w.path for w in state.warnings) == [
        "metadata.labels.app", "metadata.namespace", "spec.volumes[1].projected.sources[2].serviceAccountToken"]
    for f in (*info.files, *both.files):
        assert state.value(f.ref) in (b"250", b'app="a b"\nzone="east"', b"shop", b"fast", b"east")
    body = container_body(pod, pod.containers[0], Role.CONTAINER, {"io.podspec.project": "demo"})
    assert sorted(s["Target"] for s in body["secrets"]) == [
        "/both/mode", "/both/zone", "/etc/info/cpu", "/etc/info/labels", "/etc/info/ns"]
    assert "volumes" not in body and "mounts" not in body  # files only, no volume of their own


def test_env_and_downward_files_give_the_same_namespace_kubernetes_would(tmp_path):
    env = "    env:\n    - {name: NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}\n"
    text = DOWNWARD.replace("    resources: {limits: {cpu: 250m}}\n", "    resources: {limits: {cpu: 250m}}\n" + env)
    written = load([write(tmp_path, text)]).pods[0]
    assert [(e.name, e.value) for e in written.containers[0].env] == [("NS", "shop")]
    assert [f.ref.value for f in written.volumes[0].files if f.path == "ns"] == ["shop"]
    unwritten = load([write(tmp_path, text.replace("  namespace: shop\n", ""))]).pods[0]
    assert [(e.name, e.value) for e in unwritten.containers[0].env] == [("NS", "default")]
    assert [f.ref.value for f in unwritten.volumes[0].files if f.path == "ns"] == ["default"]


def test_a_downward_field_unknown_before_the_pod_runs_is_refused(tmp_path):
    with pytest.raises(ManifestError) as refused:
        load([write(tmp_path, DOWNWARD.replace("fieldPath: metadata.namespace", "fieldPath: status.podIP"))])
    assert refused.value.problems[0].message.startswith("fieldPath status.podIP is not supported in a downwardAPI file")


def test_the_tutorial_and_a_claims_storage_request_give_no_warning():
    from pathlib import Path as P

    root = P(__file__).resolve().parents[2]
    for path in sorted((root / "manifests").rglob("*.y*ml")):
        assert load([str(path)]).warnings == (), path
