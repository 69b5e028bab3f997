"""Issue 12's Pod fields, on plain data: warnings for cluster-only fields, hints, the fields Podman can
honour (model, intent, Podman's create bodies, export), and the bugs fixed on the way."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from podspec.engine.specgen import container_body, pod_body
from podspec.errors import ManifestError
from podspec.export import manifest
from podspec.labels import Role
from podspec.loader import load
from podspec.model import Pod, VolumeKind
from podspec.reconcile import podman_rules
from podspec.reconcile.intent import empty_dir_volumes, pod_intent

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  containers:
  - name: web
    image: httpd:2.4
"""


def write(tmp_path: Path, text: str, name: str = "pod.yaml") -> str:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def problems(tmp_path: Path, text: str, **options) -> list[str]:
    path = write(tmp_path, text)
    try:
        load([path], **options)
    except ManifestError as error:
        return [str(p).replace(path, "F") for p in error.problems]
    return []


def pod_of(tmp_path: Path, text: str) -> Pod:
    state = load([write(tmp_path, text)])
    return state.pods[0]


# ------------------------------------------------------------------------------ warnings channel

CLUSTER = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: prod
  uid: 0f6b
spec:
  nodeSelector: {disktype: ssd}
  affinity: {}
  tolerations: [{key: a, operator: Exists}]
  priorityClassName: high
  serviceAccountName: web
  automountServiceAccountToken: false
  enableServiceLinks: false
  dnsPolicy: ClusterFirst
  securityContext:
    fsGroupChangePolicy: OnRootMismatch
  containers:
  - name: web
    image: httpd:2.4
    terminationMessagePolicy: FallbackToLogsOnError
  volumes:
  - name: scratch
    emptyDir: {sizeLimit: 1Gi}
"""


def test_cluster_only_fields_are_accepted_and_each_reported_once_with_its_place(tmp_path):
    state = load([write(tmp_path, CLUSTER)])
    found = [(p.origin.line, p.origin.column, p.path) for p in state.warnings]
    assert found == [
        (5, 3, "metadata.namespace"), (6, 3, "metadata.uid"), (8, 3, "spec.nodeSelector"), (9, 3, "spec.affinity"),
        (10, 3, "spec.tolerations"), (11, 3, "spec.priorityClassName"), (12, 3, "spec.serviceAccountName"),
        (13, 3, "spec.automountServiceAccountToken"), (14, 3, "spec.enableServiceLinks"), (15, 14, "spec.dnsPolicy"),
        (17, 5, "spec.securityContext.fsGroupChangePolicy"), (21, 5, "spec.containers[0].terminationMessagePolicy"),
        (24, 16, "spec.volumes[0].emptyDir.sizeLimit"),
    ]
    assert all("ignored on a single Podman host" in p.message for p in state.warnings)
    assert "cluster DNS" in state.warnings[9].message and "ClusterFirst" in state.warnings[9].message


def test_strict_turns_the_warnings_into_errors(tmp_path):
    found = problems(tmp_path, CLUSTER, strict=True)
    assert len(found) == 13
    assert found[0].startswith("F:5:3: metadata.namespace: namespace would be ignored on a single Podman host")


def test_a_pod_without_cluster_fields_has_no_warnings(tmp_path):
    assert load([write(tmp_path, POD)]).warnings == ()


# ------------------------------------------------------------------------------------------ hints

@pytest.mark.parametrize(("field", "where", "expected"), [
    # real Kubernetes fields podspec does not support: said so, never "did you mean" another field
    ("activeDeadlineSeconds: 30", "spec", "activeDeadlineSeconds is a Kubernetes field podspec does not support"),
    ("ephemeralContainers: []", "spec", "use `podman exec` on the host"),
    ("volumeDevices: []", "container", "raw block devices are not supported"),
    ("restartPolicyRules: []", "container", "per-container restart rules are not supported"),
    ("lifecycle: {preStop: {exec: {command: [x]}}}", "container", "Podman has no preStop hook"),
    # likely typos get "did you mean"
    ("imagePullPolicyy: Always", "container", "did you mean imagePullPolicy?"),
    ("nodeSelectr: {}", "spec", "did you mean nodeSelector?"),
    ("restartpolicy: Always", "spec", "did you mean restartPolicy?"),
])
def test_hints_for_unknown_fields(tmp_path, field, where, expected):
    text = POD + ("    " + field + "\n" if where == "container" else "")
    if where == "spec":
        text = text.replace("spec:\n", f"spec:\n  {field}\n")
    found = problems(tmp_path, text)
    assert len(found) == 1 and expected in found[0], found


@pytest.mark.parametrize(("kind", "key", "supported"), [
    ("", "valueFrom", ["name", "value"]),  # an object the schema does not title: any real field counts
    ("ObjectMeta", "namespace", ["annotations", "labels", "name"]),
    ("PodSpec", "dnsPolicy", ["containers", "restartPolicy"]),
    ("Container", "readinessProbe", ["image", "livenessProbe", "name"]),
])
def test_no_did_you_mean_from_one_real_field_to_another(kind, key, supported):
    from podspec.loader.kubefields import unknown_field

    message, hint = unknown_field(kind, key, supported)
    assert "did you mean" not in hint and f"{key} is a Kubernetes field podspec does not support" in message


def test_a_real_field_in_the_wrong_place_gets_no_did_you_mean(tmp_path):
    text = POD.replace("spec:\n", "spec:\n  grpc: {}\n")  # a real field of another type
    found = problems(tmp_path, text)
    assert len(found) == 1 and "did you mean" not in found[0]


def test_readiness_probe_is_accepted_and_never_suggested_as_liveness(tmp_path):
    text = POD + "    readinessProbe: {exec: {command: ['true']}}\n"
    assert problems(tmp_path, text) == []


def test_a_tab_in_yaml_is_called_a_tab(tmp_path):
    text = POD.replace("    image: httpd:2.4", "\timage: httpd:2.4")
    found = problems(tmp_path, text)
    assert found == ["F:8:1: invalid YAML: a tab character at line 8, column 1; YAML indents with spaces only "
                     "(replace the tab with spaces)"]


# ---------------------------------------------------------------------------------- bugs fixed

def test_empty_dir_content_is_read_and_checked(tmp_path):
    found = problems(tmp_path, POD + "  volumes: [{name: v, emptyDir: {medium: Memory, bogus: 1}}]\n")
    assert found == ['F:9:50: spec.volumes[0].emptyDir.bogus: unknown field "bogus" (supported fields here: medium, sizeLimit)']
    found = problems(tmp_path, POD + "  volumes: [{name: v, emptyDir: {medium: Disk}}]\n")
    assert len(found) == 1 and "unsupported medium" in found[0]


def test_memory_empty_dir_is_a_tmpfs_of_its_size_limit(tmp_path):
    pod = pod_of(tmp_path, POD + "    volumeMounts: [{name: m, mountPath: /cache}]\n"
                 "  volumes: [{name: m, emptyDir: {medium: Memory, sizeLimit: 64Mi}}]\n")
    assert (pod.volumes[0].medium, pod.volumes[0].size_limit_bytes) == ("Memory", 64 * 2**20)
    assert empty_dir_volumes(pod) == ()  # no Podman volume for it
    body = container_body(pod, pod.containers[0], Role.CONTAINER, {})
    assert body["mounts"] == [{"Type": "tmpfs", "Source": "tmpfs", "Destination": "/cache",
                               "Options": ["rw", "nosuid", "nodev", f"size={64 * 2**20}"]}]
    assert "volumes" not in body
    assert load([write(tmp_path, POD.replace("image", "volumeMounts: [{name: m, mountPath: /c}]\n    image") +
                       "  volumes: [{name: m, emptyDir: {medium: Memory, sizeLimit: 64Mi}}]\n")]).warnings == ()


def test_mount_options_after_the_path_are_applied(tmp_path):
    text = POD + ("    volumeMounts:\n    - {name: d, mountPath: '/data:z'}\n    - {name: d, mountPath: '/ro:ro,Z'}\n"
                  "  volumes: [{name: d, persistentVolumeClaim: {claimName: data}}]\n")
    pod = pod_of(tmp_path, text)
    assert [(m.mount_path, m.read_only, m.relabel) for m in pod.containers[0].volume_mounts] == [
        ("/data", False, "z"), ("/ro", True, "Z")]
    body = container_body(pod, pod.containers[0], Role.CONTAINER, {})
    assert [v["Options"] for v in body["volumes"]] == [["z"], ["ro", "Z"]]
    found = problems(tmp_path, text.replace("/data:z", "/data:exec"))
    assert len(found) == 1 and "unsupported mount option 'exec'" in found[0]


def test_null_labels_and_annotations_are_absent(tmp_path):
    pod = pod_of(tmp_path, POD.replace("  name: web\n", "  name: web\n  labels:\n  annotations:\n"))
    assert pod.labels == () and pod.annotations == ()


GENERATED = """\
apiVersion: v1
kind: Pod
metadata:
  creationTimestamp: "2026-11-28T10:00:00Z"
  annotations:
    io.kubernetes.cri-o.SandboxID/web: "0123"
    io.podman.annotations.label/web: type:container_t
    org.systemd.property.KillSignal: "15"
  labels:
    app: web
  name: web
spec:
  automountServiceAccountToken: false
  enableServiceLinks: false
  hostUsers: true
  dnsConfig: {}
  securityContext:
    seLinuxOptions: {}
  containers:
  - name: web
    image: docker.io/library/httpd:2.4
    resources: {}
    securityContext:
      seLinuxOptions: {}
    volumeMounts:
    - {name: my_data-pvc, mountPath: /data}
  volumes:
  - name: my_data-pvc
    persistentVolumeClaim: {claimName: my_data}
status: {}
"""


def test_podman_kube_generate_output_is_accepted(tmp_path):
    state = load([write(tmp_path, GENERATED)])
    pod = state.pods[0]
    assert pod.volumes[0].claim_name == "my_data" and pod.annotations == ()
    assert pod.host_users and pod.dns_nameservers == () and pod.containers[0].security.se_linux_options == ()


def test_a_claim_may_not_take_an_empty_dirs_volume_name(tmp_path):
    text = POD.replace("image: httpd:2.4", "image: httpd:2.4\n    volumeMounts: [{name: s, mountPath: /s}, {name: c, mountPath: /c}]")
    text += "  volumes: [{name: s, emptyDir: {}}, {name: c, persistentVolumeClaim: {claimName: web_s}}]\n"
    found = problems(tmp_path, text)
    assert len(found) == 1 and "web_s has the name of a persistentVolumeClaim" in found[0]


# --------------------------------------------------------------------------- annotations

@pytest.mark.parametrize("annotation", [
    "io.containers.sdnotify",
    "io.containers.sdnotify/web", "io.podman.annotations.userns",
])
def test_annotations_kube_play_acts_on_are_refused_with_a_reason(tmp_path, annotation):
    found = problems(tmp_path, POD.replace("  name: web\n", f"  name: web\n  annotations:\n    {annotation}: x\n"))
    assert len(found) == 1 and "is acted on by `podman kube play` but not by podspec" in found[0], found


def test_auto_update_annotations_are_taken_per_pod_and_per_container(tmp_path):
    from podspec.model import AutoUpdate

    two = POD + "  - name: side\n    image: busybox\n  - name: plain\n    image: busybox\n"
    annotated = two.replace("  name: web\n", "  name: web\n  annotations:\n    io.containers.autoupdate: registry\n"
                            "    io.containers.autoupdate/side: local\n    io.containers.autoupdate/plain: disabled\n")
    pod = pod_of(tmp_path, annotated)
    assert [(c.name, c.auto_update) for c in pod.containers] == [
        ("web", AutoUpdate.REGISTRY), ("side", AutoUpdate.LOCAL), ("plain", None)]
    assert pod_of(tmp_path, POD).containers[0].auto_update is None


@pytest.mark.parametrize(("annotation", "words"), [
    ("io.containers.autoupdate: always", "unknown auto-update policy 'always'"),
    ("io.containers.autoupdate/nosuch: registry", "names no container of this pod"),
    ("io.containers.autoupdate.authfile: /etc/auth.json", "--authfile"),
])
def test_bad_auto_update_annotations_are_refused(tmp_path, annotation, words):
    found = problems(tmp_path, POD.replace("  name: web\n", f"  name: web\n  annotations:\n    {annotation}\n"))
    assert len(found) == 1 and words in found[0], found


def test_seccomp_annotations_are_applied_as_kube_play_applies_them(tmp_path):
    """The annotations Kubernetes had before seccompProfile: the container's wins over the pod's, and
    a securityContext field over either."""
    text = POD.replace("  name: web\n", "  name: web\n  annotations:\n"
                       "    seccomp.security.alpha.kubernetes.io/pod: runtime/default\n"
                       "    container.seccomp.security.alpha.kubernetes.io/side: localhost/profiles/audit.json\n")
    text += "  - name: side\n    image: busybox\n  - name: own\n    image: busybox\n"
    text += "    securityContext: {seccompProfile: {type: Unconfined}}\n"
    pod = load([write(tmp_path, text)]).pods[0]
    assert [(c.name, c.security.seccomp_profile) for c in pod.containers] == [
        ("web", "RuntimeDefault"), ("side", "Localhost:profiles/audit.json"), ("own", "Unconfined")]
    bad = POD.replace("  name: web\n", "  name: web\n  annotations:\n    seccomp.security.alpha.kubernetes.io/pod: x\n")
    found = problems(tmp_path, bad)
    assert len(found) == 1 and "unknown seccomp profile 'x'" in found[0]


def test_a_pods_apparmor_profile_is_every_containers_that_sets_none(tmp_path):
    text = POD.replace("spec:\n", "spec:\n  securityContext:\n    appArmorProfile: {type: RuntimeDefault}\n")
    text += "  - name: own\n    image: busybox\n    securityContext: {appArmorProfile: {type: Unconfined}}\n"
    pod = load([write(tmp_path, text)]).pods[0]
    assert [c.security.app_armor_profile for c in pod.containers] == ["RuntimeDefault", "Unconfined"]


# ------------------------------------------------------------------------------ Pod fields

FIELDS = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  shareProcessNamespace: true
  hostUsers: false
  dnsPolicy: None
  dnsConfig:
    nameservers: [10.0.0.53]
    searches: [example.com]
    options: [{name: ndots, value: "2"}, {name: edns0}]
  securityContext:
    seLinuxOptions: {type: spc_t}
  containers:
  - name: web
    image: httpd:2.4
    ports: [{containerPort: 80, name: http}]
    readinessProbe: {httpGet: {path: /, port: http}, periodSeconds: 5}
    lifecycle: {stopSignal: SIGQUIT}
    securityContext:
      seLinuxOptions: {level: "s0:c1,c2"}
  - name: side
    image: busybox
    readinessProbe: {tcpSocket: {port: 8080}}
    startupProbe: {tcpSocket: {port: 8080}}
"""


def test_the_fields_podman_honours_reach_its_create_bodies(tmp_path):
    pod = pod_of(tmp_path, FIELDS)
    expected = {
        "dns_server": ["10.0.0.53"], "dns_search": ["example.com"], "dns_option": ["ndots:2", "edns0"],
        "shared_namespaces": ["ipc", "net", "uts", "pid"], "userns": {"nsmode": "auto"},
    }
    assert {k: v for k, v in pod_body(pod, {}).items() if k in expected} == expected
    web = container_body(pod, pod.containers[0], Role.CONTAINER, {})
    assert web["stop_signal"] == 3
    assert web["selinux_opts"] == ["level:s0:c1,c2"]  # the container's own options win over the pod's
    assert "healthconfig" not in web  # an httpGet probe runs from outside the container (run/probes.py), no curl inside
    side = container_body(pod, pod.containers[1], Role.CONTAINER, {})
    assert side["selinux_opts"] == ["type:spc_t"]  # inherited from the pod
    assert "healthconfig" not in side  # tcpSocket: from outside too


def test_pod_level_fields_are_intent_that_replaces_the_pod(tmp_path):
    pod = pod_of(tmp_path, FIELDS)
    spec = pod_intent(pod).spec
    assert spec["dnsNameservers"] == ["10.0.0.53"] and spec["shareProcessNamespace"] and spec["privateUsers"]
    for key in ("dnsNameservers", "dnsSearches", "dnsOptions", "shareProcessNamespace", "privateUsers"):
        assert podman_rules.replace_reason(key) != podman_rules.DEFAULT_REPLACE_REASON
    container = pod_intent(pod).containers[0].spec
    assert container["stopSignal"] == "SIGQUIT" and container["readinessProbe"]["port"] == 80


def test_the_new_fields_export_and_load_back_equal(tmp_path):
    pod = pod_of(tmp_path, FIELDS.replace("/s0", "/s0") + "    volumeMounts: [{name: m, mountPath: '/m:z'}]\n"
                 "  volumes: [{name: m, emptyDir: {medium: Memory, sizeLimit: 1Mi}}]\n")
    text = manifest.to_yaml(manifest.documents([pod], []))
    again = load([write(tmp_path, text, "again.yaml")]).pods[0]
    assert again == pod
    assert again.volumes[0].kind is VolumeKind.EMPTY_DIR


def test_every_probe_counts_and_exec_is_podmans_health_check(tmp_path):
    text = POD + ("    livenessProbe: {httpGet: {port: 80}}\n    readinessProbe: {exec: {command: [b]}}\n"
                  "    startupProbe: {tcpSocket: {port: 80}}\n")
    state = load([write(tmp_path, text)])
    container = state.pods[0].containers[0]
    assert [p.handler.value for p in (container.liveness_probe, container.readiness_probe, container.startup_probe)] \
        == ["httpGet", "exec", "tcpSocket"]
    assert state.warnings == ()  # nothing dropped: podspec runs each one (run/probes.py)
    assert container.health_probe() is container.readiness_probe  # the first exec probe: Podman's health check
    assert problems(tmp_path, text, strict=True) == []
    init = POD.replace("  containers:", "  initContainers:\n  - name: i\n    image: busybox\n"
                       "    readinessProbe: {exec: {command: [a]}}\n  containers:")
    found = problems(tmp_path, init)
    assert len(found) == 1 and "an init container cannot have a readinessProbe" in found[0]


def test_named_probe_ports_resolve_and_unknown_names_are_errors(tmp_path):
    found = problems(tmp_path, POD + "    readinessProbe: {tcpSocket: {port: web}}\n")
    assert len(found) == 1 and "no port of this container is named 'web'" in found[0]


def test_dns_policy_none_needs_a_nameserver_and_stop_signals_must_exist(tmp_path):
    found = problems(tmp_path, POD.replace("spec:\n", "spec:\n  dnsPolicy: None\n"))
    assert len(found) == 1 and "dnsPolicy None needs at least one dnsConfig.nameservers entry" in found[0]
    found = problems(tmp_path, POD + "    lifecycle: {stopSignal: SIGNOPE}\n")
    assert len(found) == 1 and "unknown signal SIGNOPE" in found[0]
    assert problems(tmp_path, POD.replace("spec:\n", "spec:\n  dnsPolicy: Default\n")) == []


def test_resources_beyond_cpu_and_memory(tmp_path):
    text = POD + "    resources:\n      limits: {ephemeral-storage: 1Gi, memory: 64Mi}\n"
    state = load([write(tmp_path, text)])
    assert [w.path for w in state.warnings] == ["spec.containers[0].resources.limits.ephemeral-storage"]
    gpu = load([write(tmp_path, POD + "    resources:\n      limits: {nvidia.com/gpu: 1, memory: 64Mi}\n")])
    assert [(w.path, w.message) for w in gpu.warnings] == [(
        "spec.containers[0].resources.limits.nvidia.com/gpu",
        "resource nvidia.com/gpu is ignored on a single Podman host (it is about a Kubernetes node's device plugins "
        "and scheduling; Podman limits cpu and memory only)",
    )]
    assert gpu.pods[0].containers[0].resources.memory_limit_bytes == 64 * 1024 * 1024
    found = problems(tmp_path, POD + "    resources:\n      limits: {nvidia.com/gpu: many}\n")
    assert len(found) == 1 and "nvidia.com/gpu" in found[0]  # still a quantity


def test_baseline_refuses_selinux_user_role_and_unsafe_types(tmp_path):
    from podspec.policy import Policy, Profile, check

    text = POD.replace("spec:\n", "spec:\n  securityContext:\n    seLinuxOptions: {type: spc_t}\n")
    text += "    securityContext:\n      seLinuxOptions: {user: system_u, level: 's0:c1'}\n"
    state = load([write(tmp_path, text)])
    found = [f"{p.path}: {p.message}" for p in check(state, Policy(Profile.BASELINE))]
    assert found == [
        "spec.containers[0].securityContext.seLinuxOptions.user: baseline: setting the SELinux user is not allowed",
    ]  # the container's own options replace the pod's (type spc_t is not inherited)
    text = POD.replace("spec:\n", "spec:\n  securityContext:\n    seLinuxOptions: {type: spc_t}\n")
    found = [f"{p.path}: {p.message}" for p in check(load([write(tmp_path, text)]), Policy(Profile.BASELINE))]
    assert found == ["spec.securityContext.seLinuxOptions.type: baseline: SELinux type spc_t is not allowed"]
    text = POD.replace("spec:\n", "spec:\n  securityContext:\n    seLinuxOptions: {type: container_t, level: 's0:c2'}\n")
    assert check(load([write(tmp_path, text)]), Policy(Profile.BASELINE)) == ()


def test_a_host_path_without_a_slash_is_a_podman_volume_as_kube_play_reads_it(tmp_path):
    text = POD + "    volumeMounts: [{name: v, mountPath: /v}]\n  volumes: [{name: v, hostPath: {path: my_vol}}]\n"
    pod = pod_of(tmp_path, text)
    assert (pod.volumes[0].kind, pod.volumes[0].claim_name) == (VolumeKind.CLAIM, "my_vol")
    found = problems(tmp_path, text.replace("my_vol", "tmpfs"))
    assert len(found) == 1 and "write the volume as emptyDir: {medium: Memory}" in found[0]
    found = problems(tmp_path, text.replace("my_vol", "data/x"))
    assert len(found) == 1 and "must be an absolute path (starting with /)" in found[0]


def test_bind_mount_options_from_kube_generate_relabel_that_host_path(tmp_path):
    text = POD.replace("  name: web\n", "  name: web\n  annotations:\n    bind-mount-options: /srv/web:Z\n")
    text += ("    volumeMounts: [{name: h, mountPath: /h}, {name: o, mountPath: /o}]\n"
             "  volumes: [{name: h, hostPath: {path: /srv/web}}, {name: o, hostPath: {path: /srv/other}}]\n")
    pod = pod_of(tmp_path, text)
    assert [m.relabel for m in pod.containers[0].volume_mounts] == ["Z", ""]
    assert pod.annotations == ()  # applied, not carried on as an annotation
    body = container_body(pod, pod.containers[0], Role.CONTAINER, {})
    assert [m["Options"] for m in body["mounts"]] == [["rbind", "Z"], ["rbind"]]
