"""What the loader builds: the frozen model, defaults normalized, positions of every node."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest

from podspec.loader import load
from podspec.model import (
    Container,
    EnvVar,
    HostAlias,
    InitContainerType,
    PortMapping,
    Probe,
    ProbeHandler,
    Protocol,
    PullPolicy,
    Resources,
    RestartPolicy,
    SecurityContext,
    Volume,
    VolumeKind,
    VolumeMount,
)

ROOT = Path(__file__).resolve().parents[2]
VALID = ROOT / "tests/fixtures/valid"


def test_tutorial_export_loads_unchanged():
    path = str(VALID / "tutorial-generate-kube.yaml")
    state = load([path])
    (pod,) = state.pods
    assert pod.name == "dynamic-webserver"
    assert pod.labels == (("app", "dynamic-webserver"),)
    assert pod.annotations == ()  # all of them are podman kube generate's bookkeeping
    assert pod.init_container_type is InitContainerType.ONCE
    assert pod.restart_policy is RestartPolicy.NEVER
    assert [c.name for c in pod.init_containers] == ["apache-httpd-init"]
    assert [c.name for c in pod.containers] == ["apache-httpd", "apache-httpd-index-updater"]
    httpd = pod.containers[0]
    assert httpd.image == "docker.io/library/httpd:2.4"
    assert httpd.pull_policy is PullPolicy.IF_NOT_PRESENT
    assert httpd.ports == (PortMapping(container_port=80, host_port=8080),)
    assert httpd.security.capabilities_drop == ("AUDIT_WRITE", "MKNOD", "NET_RAW")
    assert httpd.resources == Resources()
    assert pod.containers[1].pull_policy is PullPolicy.ALWAYS  # :latest
    assert pod.volumes == (Volume("webserver-data-pvc", VolumeKind.CLAIM, claim_name="webserver-data"),)
    assert pod.claim_names() == ("webserver-data",)
    assert state.files == (path,)


def test_every_field_is_mapped():
    state = load([str(VALID / "every-field.yaml")])
    (claim,) = state.claims
    assert claim.name == "data.example" and claim.labels == (("app", "full"),)
    (pod,) = state.pods
    assert pod.hostname == "full-host"
    assert pod.restart_policy is RestartPolicy.ON_FAILURE
    assert pod.termination_grace_period_seconds == 10
    assert pod.host_aliases == (HostAlias("10.0.0.1", ("db.local", "cache.local")),)
    assert pod.labels == (("app", "full"), ("example.com/tier", "backend"))
    assert pod.annotations == (("example.com/owner", "ops"),)
    assert (pod.host_pid, pod.host_ipc, pod.host_network) == (False, False, False)
    assert pod.sysctls == (("net.ipv4.ip_unprivileged_port_start", "80"),)
    assert pod.supplemental_groups == (2000, 3000)
    assert pod.fs_group == 2000
    (setup,) = pod.init_containers
    assert setup.image.endswith("@sha256:" + "0123456789abcdef" * 4)
    assert setup.pull_policy is PullPolicy.IF_NOT_PRESENT
    assert (setup.command, setup.args) == (("sh", "-c"), ("echo ready > /work/ready",))
    # pod-level securityContext is folded into every container
    assert setup.security == SecurityContext(
        run_as_user=1000, run_as_group=1000, run_as_non_root=True, seccomp_profile="RuntimeDefault",
    )
    app, worker, cache = pod.containers
    assert app == Container(
        name="app",
        image="quay.io/example/app:latest",
        pull_policy=PullPolicy.IF_NOT_PRESENT,  # written explicitly
        working_dir="/srv",
        env=(EnvVar("MODE", "production"), EnvVar("EMPTY", "")),
        ports=(
            PortMapping(8080, 18080, "", Protocol.TCP),
            PortMapping(5353, 5353, "127.0.0.1", Protocol.UDP),
        ),
        volume_mounts=(
            VolumeMount("data", "/var/lib/app"),
            VolumeMount("config", "/etc/app/app.conf", read_only=True, sub_path="app.conf"),
            VolumeMount("scratch", "/tmp/scratch"),
        ),
        resources=Resources(
            cpu_limit_millis=1500, memory_limit_bytes=10**9, cpu_request_millis=250, memory_request_bytes=128 * 2**20,
        ),
        security=SecurityContext(
            privileged=False,
            capabilities_add=("NET_BIND_SERVICE",),
            capabilities_drop=("ALL",),
            run_as_user=1001,  # its own wins over the pod's
            run_as_group=1000,
            run_as_non_root=True,
            read_only_root_filesystem=True,
            allow_privilege_escalation=False,
            seccomp_profile="Localhost:profiles/app.json",
            proc_mount="",
            app_armor_profile="RuntimeDefault",
        ),
        liveness_probe=Probe(
            ProbeHandler.HTTP_GET, path="/healthz", port=8080, initial_delay_seconds=5, period_seconds=15,
            timeout_seconds=2, success_threshold=1, failure_threshold=4,
        ),
        stdin=True,
        tty=True,
    )
    assert worker.liveness_probe == Probe(ProbeHandler.EXEC, command=("cat", "/tmp/alive"))
    assert cache.liveness_probe == Probe(ProbeHandler.TCP_SOCKET, port=6379)
    assert cache.image == "redis:7"
    assert pod.volumes == (
        Volume("data", VolumeKind.CLAIM, claim_name="data.example"),
        Volume("config", VolumeKind.HOST_PATH, host_path="/etc/example", host_path_type="Directory"),
        Volume("scratch", VolumeKind.EMPTY_DIR),
    )


def test_same_intent_written_two_ways_compares_equal():
    short = load([str(ROOT / "tests/fixtures/equivalent/short.yaml")])
    long = load([str(ROOT / "tests/fixtures/equivalent/long.yaml")])
    assert short.pods == long.pods
    container = short.pods[0].containers[0]
    assert container.image == "nginx:latest" and container.pull_policy is PullPolicy.ALWAYS
    assert container.resources.cpu_limit_millis == 500 and container.resources.memory_limit_bytes == 2**30
    assert short.pods[0].labels == (("a", "1"), ("b", "2"))


def test_anchors_and_merge_keys():
    (pod,) = load([str(VALID / "anchors.yaml")]).pods
    one, two = pod.containers
    assert (one.name, two.name) == ("one", "two")
    assert one.image == two.image == "busybox:latest"
    assert one.env == two.env == (EnvVar("A", "1"),)


def test_locations_point_at_every_node():
    (pod,) = load([str(VALID / "tutorial-generate-kube.yaml")]).pods
    positions = pod.locations.positions
    assert positions[()] == (5, 1)
    assert positions[("metadata", "name")] == (33, 3)
    assert positions[("spec", "containers", 0)] == (36, 5)  # a list item: where it starts
    assert positions[("spec", "containers", 0, "image")] == (36, 5)  # a key: where the key is
    assert positions[("spec", "containers", 0, "ports", 0, "hostPort")] == (40, 7)
    assert positions[("spec", "containers", 0, "securityContext", "capabilities", "drop", 2)] == (47, 11)
    assert str(pod.locations.of(("spec", "containers", 1, "image"))).endswith("tutorial-generate-kube.yaml:56:5")
    # a default that was not written resolves to its nearest written ancestor
    assert pod.locations.of(("spec", "containers", 0, "imagePullPolicy")).line == 36
    assert pod.origin.line == 5


def test_pods_and_claims_sorted_by_name_and_files_in_order(tmp_path):
    (tmp_path / "b.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: zeta}\nspec: {containers: [{name: c, image: busybox}]}\n"
        "---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: vol-b}\n"
    )
    sub = tmp_path / "a"
    sub.mkdir()
    (sub / "x.yml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: alpha}\nspec: {containers: [{name: c, image: busybox}]}\n"
        "---\napiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: vol-a}\n"
    )
    (tmp_path / "notes.txt").write_text("not a manifest")
    (tmp_path / ".hidden.yaml").write_text("not: [valid")
    state = load([str(tmp_path)])
    assert [p.name for p in state.pods] == ["alpha", "zeta"]
    assert [c.name for c in state.claims] == ["vol-a", "vol-b"]
    assert state.files == (str(sub / "x.yml"), str(tmp_path / "b.yaml"))
    # the same file named twice (directly and through its directory) is read once
    assert load([str(tmp_path / "b.yaml"), str(tmp_path)]).files == (str(tmp_path / "b.yaml"), str(sub / "x.yml"))


def test_stdin():
    text = (VALID / "tutorial-generate-kube.yaml").read_text()
    state = load(["-"], stdin=io.StringIO(text))
    assert state.files == ("<stdin>",)
    assert state.pods[0].locations.of(("metadata", "name")).file == "<stdin>"


@pytest.mark.parametrize(
    ("image", "normalized", "policy"),
    [
        ("alpine", "alpine:latest", PullPolicy.ALWAYS),
        ("alpine:latest", "alpine:latest", PullPolicy.ALWAYS),
        ("alpine:3.19", "alpine:3.19", PullPolicy.IF_NOT_PRESENT),
        ("localhost:5000/team/app", "localhost:5000/team/app:latest", PullPolicy.ALWAYS),
        ("localhost:5000/team/app:v2", "localhost:5000/team/app:v2", PullPolicy.IF_NOT_PRESENT),
        ("app@sha256:" + "ab" * 32, "app@sha256:" + "ab" * 32, PullPolicy.IF_NOT_PRESENT),
    ],
)
def test_image_and_pull_policy_defaults(image, normalized, policy):
    text = f"apiVersion: v1\nkind: Pod\nmetadata: {{name: p}}\nspec: {{containers: [{{name: c, image: '{image}'}}]}}\n"
    container = load(["-"], stdin=io.StringIO(text)).pods[0].containers[0]
    assert (container.image, container.pull_policy) == (normalized, policy)


def test_the_model_is_frozen():
    (pod,) = load([str(VALID / "tutorial-generate-kube.yaml")]).pods
    with pytest.raises(dataclasses.FrozenInstanceError):
        pod.name = "other"  # type: ignore[misc]


def test_run_as_group_with_a_run_as_user_from_either_level_is_kept():
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
        "spec:\n  securityContext: {runAsUser: 1000, runAsGroup: 100, fsGroup: 300}\n"
        "  containers:\n    - {name: a, image: alpine}\n"
        "    - {name: b, image: alpine, securityContext: {runAsGroup: 200}}\n"
        "    - {name: c, image: alpine, securityContext: {runAsUser: 0}}\n"
    )
    (pod,) = load(["-"], stdin=io.StringIO(text)).pods
    assert [(c.security.run_as_user, c.security.run_as_group) for c in pod.containers] == [
        (1000, 100), (1000, 200), (0, 100),
    ]
    assert pod.fs_group == 300


def test_env_values_that_only_mention_the_placeholder_are_kept():
    text = (
        "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"
        "spec:\n  containers:\n    - name: a\n      image: alpine\n"
        "      env: [{name: NOTE, value: '(redacted) on purpose'}, {name: EMPTY}]\n"
    )
    (pod,) = load(["-"], stdin=io.StringIO(text)).pods
    assert pod.containers[0].env == (EnvVar("NOTE", "(redacted) on purpose"), EnvVar("EMPTY", ""))
