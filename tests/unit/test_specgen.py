"""The REST create bodies specgen writes, pinned: the tutorial pod, and a pod that sets every field
specgen translates (security, resources, mounts of each kind, probes of each handler, env, stdio).

Integration tests prove the bodies work against Podman; these pin them, so that a refactor of
specgen changes no byte. Regenerate after an intended change with PODSPEC_UPDATE_GOLDEN=1 and
review the diff of tests/unit/golden/specgen/ like code.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from podspec.engine.specgen import container_body, pod_body
from podspec.labels import Role
from podspec.loader import load
from podspec.model import (
    EnvVar,
    HostAlias,
    InitContainerType,
    Pod,
    PortMapping,
    Probe,
    ProbeHandler,
    Protocol,
    Resources,
    RestartPolicy,
    SecurityContext,
    Volume,
    VolumeKind,
    VolumeMount,
)

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden" / "specgen"
LABELS = {"io.podspec.managed-by": "podspec", "io.podspec.project": "demo"}


def tutorial() -> Pod:
    return load([str(ROOT / "manifests" / "webserver.yaml")]).pods[0]


def everything() -> Pod:
    """The tutorial pod with every field specgen translates set on its containers."""
    pod = tutorial()
    httpd, updater = pod.containers
    httpd = replace(
        httpd,
        command=("httpd",), args=("-f", "-p", "80"), working_dir="/srv", stdin=True, tty=True,
        env=(EnvVar("MODE", "production"), EnvVar("EMPTY", "")),
        ports=httpd.ports + (PortMapping(5353, 5353, "127.0.0.1", Protocol.UDP), PortMapping(9000)),
        volume_mounts=httpd.volume_mounts + (
            VolumeMount("config", "/etc/app/app.conf", read_only=True, sub_path="app.conf"),
            VolumeMount("logs", "/var/log/app"),
            VolumeMount("scratch", "/tmp/scratch"),
            VolumeMount("shared", "/shared", sub_path="part"),
        ),
        resources=Resources(cpu_limit_millis=1500, memory_limit_bytes=10**9, cpu_request_millis=250,
                            memory_request_bytes=128 * 2**20),
        security=SecurityContext(
            capabilities_add=("NET_BIND_SERVICE",), capabilities_drop=("ALL",), run_as_user=1001, run_as_group=1002,
            read_only_root_filesystem=True, allow_privilege_escalation=False,
            seccomp_profile="Localhost:profiles/app.json", app_armor_profile="Localhost:my-profile",
        ),
        liveness_probe=Probe(ProbeHandler.HTTP_GET, path="/healthz", port=80, initial_delay_seconds=5,
                             period_seconds=15, timeout_seconds=2, failure_threshold=4),
    )
    updater = replace(
        updater,
        resources=Resources(cpu_request_millis=1),
        security=SecurityContext(privileged=True, run_as_user=0, seccomp_profile="Unconfined",
                                 app_armor_profile="Unconfined", proc_mount="Unmasked", allow_privilege_escalation=True),
        liveness_probe=Probe(ProbeHandler.EXEC, command=("cat", "/tmp/alive")),
    )
    tcp = replace(updater, name="cache", security=SecurityContext(), resources=Resources(memory_limit_bytes=2**30),
                  liveness_probe=Probe(ProbeHandler.TCP_SOCKET, port=6379, host="127.0.0.1"))
    https = replace(tcp, name="secure", resources=Resources(cpu_limit_millis=100),
                    liveness_probe=Probe(ProbeHandler.HTTP_GET, port=8443, scheme="HTTPS", host="example.test"))
    init = replace(pod.init_containers[0], liveness_probe=Probe(ProbeHandler.EXEC, command=("true",)))
    return replace(
        pod,
        name="everything",
        init_containers=(init,),
        init_container_type=InitContainerType.ONCE,
        containers=(httpd, updater, tcp, https),
        volumes=pod.volumes + (
            Volume("config", VolumeKind.HOST_PATH, host_path="/etc/example"),
            Volume("logs", VolumeKind.HOST_PATH, host_path="/var/log/example", read_only=True),
            Volume("scratch", VolumeKind.EMPTY_DIR),
            Volume("shared", VolumeKind.CLAIM, claim_name="shared-data", read_only=True),
        ),
        restart_policy=RestartPolicy.ON_FAILURE,
        hostname="everything-host",
        host_aliases=(HostAlias("10.0.0.1", ("db.local", "cache.local")),),
        annotations=(("example.com/owner", "ops"),),
        host_pid=True,
        host_ipc=True,
        sysctls=(("net.ipv4.ip_unprivileged_port_start", "80"),),
        supplemental_groups=(2000, 3000),
        fs_group=2000,
    )


def bodies(pod: Pod) -> dict:
    return {
        "pod": pod_body(pod, LABELS),
        "host_network_pod": pod_body(replace(pod, host_network=True), LABELS),
        "containers": {
            c.name: container_body(pod, c, role, LABELS)
            for role, group in ((Role.INIT, pod.init_containers), (Role.CONTAINER, pod.containers))
            for c in group
        },
    }


@pytest.mark.parametrize("name, pod", [("tutorial", tutorial), ("everything", everything)])
def test_bodies_are_pinned(name, pod):
    text = json.dumps(bodies(pod()), indent=2) + "\n"  # key order pinned too
    path = GOLDEN / f"{name}.json"
    if os.environ.get("PODSPEC_UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert path.exists(), f"missing golden file {path}; run with PODSPEC_UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text()


def test_the_tutorial_bodies_say_what_kube_play_would():
    body = bodies(tutorial())
    assert body["pod"]["portmappings"] == [{"container_port": 80, "host_port": 8080, "host_ip": "", "protocol": "tcp"}]
    init = body["containers"]["apache-httpd-init"]
    assert init["name"] == "dynamic-webserver-apache-httpd-init"
    assert init["init_container_type"] == "always" and "restart_policy" not in init
    assert body["containers"]["apache-httpd"]["volumes"] == [
        {"Name": "webserver-data", "Dest": "/usr/local/apache2/htdocs", "Options": []}
    ]
