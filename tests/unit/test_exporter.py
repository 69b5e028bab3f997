"""The exporter (inspect JSON -> model) and the manifest writer (model -> YAML), on plain data.

The inspect dicts below have the shape Podman 4.3.1's REST API returns (trimmed to what matters).
"""

from __future__ import annotations

import json

import pytest
import yaml

from podspec import labels as L
from podspec.errors import PodspecError
from podspec.export import manifest as manifest_writer
from podspec.export.inspected import PodData, container_name_in_manifest, export
from podspec.loader import load
from podspec.model import (
    Container,
    EnvVar,
    InitContainerType,
    Pod,
    PortMapping,
    Probe,
    ProbeHandler,
    Protocol,
    PullPolicy,
    Resources,
    RestartPolicy,
    SecurityContext,
    Volume,
    VolumeClaim,
    VolumeKind,
    VolumeMount,
)
from tests.unit.test_kubernetes_schema import kubernetes_problems

HTDOCS = "/usr/local/apache2/htdocs"
IMAGES = {
    "busybox-id": {"Config": {"Env": ["PATH=/bin"], "Cmd": ["sh"]}},
    "httpd-id": {"Config": {"Env": ["PATH=/bin"], "Cmd": ["httpd", "-f", "-p", "80", "-h", HTDOCS]}},
    "alpine-id": {"Config": {"Env": ["PATH=/bin"], "Cmd": ["/bin/sh"]}},
}
VOLUME_MOUNT = {
    "Type": "volume", "Name": "webserver-data", "Source": "/var/lib/containers/storage/volumes/webserver-data/_data",
    "Destination": HTDOCS, "Driver": "local", "Mode": "z", "Options": ["nosuid", "nodev", "rbind"], "RW": True,
}


def cli_container(name, image, image_id, argv, created, create_command, mounts=(VOLUME_MOUNT,), stop_timeout=1,
                  env=("PATH=/bin", "TERM=xterm", "container=podman"), **host):
    """A container as `podman create ... --pod dynamic-webserver` leaves it."""
    return {
        "Id": name + "-id", "Name": name, "Created": created, "Image": image_id, "ImageName": image,
        "Path": argv[0], "Args": list(argv[1:]), "Mounts": list(mounts),
        "Config": {
            "Hostname": "dynamic-webserver", "User": "", "Env": list(env), "Cmd": list(argv), "Entrypoint": "",
            "WorkingDir": "/", "Tty": False, "OpenStdin": False, "Labels": None, "StopTimeout": stop_timeout,
            "Annotations": {"io.kubernetes.cri-o.ContainerType": "container", "io.podman.annotations.autoremove": "FALSE"},
            "CreateCommand": ["podman", "create", *create_command],
        },
        "HostConfig": {"RestartPolicy": {"Name": "", "MaximumRetryCount": 0}, "CapAdd": [], "CapDrop": [],
                       "SecurityOpt": [], "Privileged": False, "ReadonlyRootfs": False, **host},
    }


def tutorial_pod(port: int = 8080) -> PodData:
    """The tutorial's pod built by hand: pod create -p/--volume, an always init container, httpd, sidecar."""
    init = cli_container(
        "apache-httpd-init", "docker.io/library/busybox:latest", "busybox-id",
        ["sh", "-c", 'echo "Static Website Init" > /usr/local/apache2/htdocs/index.html'],
        "2026-01-01T10:00:01Z", ["--name", "apache-httpd-init", "--init-ctr=always", "--pod", "dynamic-webserver"],
    )
    httpd = cli_container(
        "apache-httpd", "docker.io/library/httpd:2.4", "httpd-id", ["httpd", "-f", "-p", "80", "-h", HTDOCS],
        "2026-01-01T10:00:02Z", ["--name", "apache-httpd", "--pod", "dynamic-webserver", "httpd:2.4"],
    )
    sidecar = cli_container(
        "apache-httpd-index-updater", "docker.io/library/alpine:latest", "alpine-id",
        ["sh", "-c", "while true; do date >> /usr/local/apache2/htdocs/index.html; sleep 10; done"],
        "2026-01-01T10:00:03Z", ["--name", "apache-httpd-index-updater", "--pod", "dynamic-webserver", "alpine"],
    )
    pod = {
        "Id": "f" * 64, "Name": "dynamic-webserver", "Created": "2026-01-01T10:00:00Z", "Hostname": "",
        "Labels": None, "InfraContainerID": "i" * 64,
        "InfraConfig": {"PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": str(port)}]}, "HostNetwork": False,
                        "HostAdd": None, "pid_ns": "private"},
    }
    # Podman lists a pod's containers in no useful order: creation time decides.
    return PodData(pod=pod, containers=(sidecar, httpd, init), images=IMAGES,
                   volumes={"webserver-data": {"Name": "webserver-data", "Labels": {}}})


def test_tutorial_pod_by_hand_exports_to_the_tutorial_model():
    result = export([tutorial_pod(8080)])
    volume = Volume("webserver-data-pvc", VolumeKind.CLAIM, claim_name="webserver-data")
    mount = (VolumeMount("webserver-data-pvc", HTDOCS),)
    assert result.claims == (VolumeClaim("webserver-data"),)
    assert result.notes == ()
    assert result.pods == (
        Pod(
            name="dynamic-webserver",
            init_containers=(Container(
                "apache-httpd-init", "docker.io/library/busybox:latest", PullPolicy.ALWAYS,
                args=("sh", "-c", 'echo "Static Website Init" > /usr/local/apache2/htdocs/index.html'),
                volume_mounts=mount,
            ),),
            containers=(
                Container("apache-httpd", "docker.io/library/httpd:2.4", PullPolicy.IF_NOT_PRESENT,
                          ports=(PortMapping(80, 8080),), volume_mounts=mount),
                Container("apache-httpd-index-updater", "docker.io/library/alpine:latest", PullPolicy.ALWAYS,
                          args=("sh", "-c", "while true; do date >> /usr/local/apache2/htdocs/index.html; sleep 10; done"),
                          volume_mounts=mount),
            ),
            init_container_type=InitContainerType.ALWAYS,
            volumes=(volume,),
            restart_policy=RestartPolicy.NEVER,  # `podman create` without --restart
            termination_grace_period_seconds=1,
        ),
    )


def test_tutorial_export_is_clean_yaml_that_loads_back_equal(tmp_path):
    result = export([tutorial_pod()])
    text = manifest_writer.to_yaml(manifest_writer.documents(result.pods, result.claims))
    docs = list(yaml.safe_load_all(text))
    assert [d["kind"] for d in docs] == ["PersistentVolumeClaim", "Pod"]
    pod = docs[1]
    assert list(pod) == ["apiVersion", "kind", "metadata", "spec"]
    assert pod["metadata"] == {
        "name": "dynamic-webserver", "annotations": {"io.podman.annotations.init.container.type": "always"},
    }
    httpd = pod["spec"]["containers"][0]
    # The image's own command and environment, Podman's env and empty resources are gone.
    assert httpd == {
        "name": "apache-httpd", "image": "docker.io/library/httpd:2.4",
        "ports": [{"containerPort": 80, "hostPort": 8080}],
        "volumeMounts": [{"name": "webserver-data-pvc", "mountPath": HTDOCS}],
    }
    for word in ("status", "creationTimestamp", "resources: {}", "PATH", "container=podman", "io.kubernetes",
                 "CAP_", "io.podspec", "Id:", "f" * 12):
        assert word not in text
    path = tmp_path / "export.yaml"
    path.write_text(text)
    loaded = load([str(path)])
    assert loaded.pods == result.pods and loaded.claims == result.claims
    assert kubernetes_problems(text) == []


def test_export_is_deterministic():
    first = manifest_writer.to_yaml(manifest_writer.documents(*_pods_claims(export([tutorial_pod()]))))
    shuffled = tutorial_pod()
    again = PodData(shuffled.pod, tuple(reversed(shuffled.containers)), shuffled.images, shuffled.volumes)
    assert manifest_writer.to_yaml(manifest_writer.documents(*_pods_claims(export([again])))) == first


def _pods_claims(result):
    return result.pods, result.claims


def test_init_container_of_type_once_keeps_no_annotation():
    data = tutorial_pod()
    init = json.loads(json.dumps(data.containers[2]))
    init["Config"]["CreateCommand"] = ["podman", "create", "--init-ctr", "once", "--pod", "dynamic-webserver"]
    pod = export([PodData(data.pod, (data.containers[0], data.containers[1], init), IMAGES, data.volumes)]).pods[0]
    assert pod.init_container_type is InitContainerType.ONCE and len(pod.init_containers) == 1
    assert "annotations" not in manifest_writer.pod_document(pod)["metadata"]


def test_init_containers_podman_lists_in_kube_generate_are_init_containers():
    data = tutorial_pod()
    init = json.loads(json.dumps(data.containers[2]))
    init["Config"]["CreateCommand"] = None  # made over REST or by kube play: only Podman's kube view says
    init["Config"]["Annotations"]["io.podman.annotations.init.container.type"] = "always"
    others = [json.loads(json.dumps(c)) for c in data.containers[:2]]
    for c in others:
        c["Config"]["Annotations"]["io.podman.annotations.init.container.type"] = "always"
    pod = export([PodData(data.pod, (*others, init), IMAGES, data.volumes, init_names=("apache-httpd-init",))]).pods[0]
    assert [c.name for c in pod.init_containers] == ["apache-httpd-init"]
    assert pod.init_container_type is InitContainerType.ALWAYS
    assert pod.annotations == ()  # Podman's own annotation becomes the init type, not a pod annotation


def test_values_the_user_set_survive_and_image_defaults_do_not():
    c = cli_container(
        "web", "docker.io/library/alpine:latest", "alpine-id", ["/bin/sh"], "2026-01-01T10:00:02Z", [],
        mounts=(), stop_timeout=30,
        env=("MODE=fast", "PATH=/bin", "TERM=xterm", "container=podman", "HOME=/", "HOSTNAME=dynamic-webserver", "A=1"),
        CapAdd=["CAP_NET_ADMIN"], CapDrop=["CAP_MKNOD", "CAP_NET_RAW"], SecurityOpt=["no-new-privileges"],
        Memory=64 * 2**20, MemoryReservation=32 * 2**20, CpuQuota=50000, CpuPeriod=100000, CpuShares=102,
        RestartPolicy={"Name": "always"},
    )
    c["Config"].update(User="1000:1000", WorkingDir="/srv", Tty=True, OpenStdin=True,
                       Healthcheck={"Test": ["CMD-SHELL", "curl -f http://localhost:80/health || exit 1"],
                                    "Interval": 5 * 10**9, "Timeout": 2 * 10**9, "Retries": 4})
    pod = {"Name": "p", "Hostname": "", "Labels": {"app": "p"}, "InfraConfig": {}}
    [exported] = export([PodData(pod, (c,), IMAGES)]).pods
    web = exported.containers[0]
    assert exported.restart_policy is RestartPolicy.ALWAYS and exported.termination_grace_period_seconds == 30
    assert exported.labels == (("app", "p"),)
    assert web.command == () and web.args == ()  # the image's own cmd
    assert web.env == (EnvVar("A", "1"), EnvVar("MODE", "fast"))  # sorted; image and Podman env gone
    assert web.working_dir == "/srv" and web.tty and web.stdin
    assert web.resources == Resources(cpu_limit_millis=500, memory_limit_bytes=64 * 2**20, cpu_request_millis=100,
                                      memory_request_bytes=32 * 2**20)
    assert web.security == SecurityContext(capabilities_add=("NET_ADMIN",), capabilities_drop=("MKNOD", "NET_RAW"),
                                           run_as_user=1000, run_as_group=1000, allow_privilege_escalation=False)
    assert web.liveness_probe == Probe(ProbeHandler.HTTP_GET, path="/health", port=80, period_seconds=5,
                                       timeout_seconds=2, failure_threshold=4)
    doc = manifest_writer.container_document(web)
    assert doc["resources"] == {"limits": {"cpu": "500m", "memory": "64Mi"}, "requests": {"cpu": "100m", "memory": "32Mi"}}
    assert doc["securityContext"]["capabilities"] == {"add": ["NET_ADMIN"], "drop": ["MKNOD", "NET_RAW"]}
    assert kubernetes_problems(manifest_writer.to_yaml([manifest_writer.pod_document(exported)])) == []


def test_entrypoint_override_is_command_and_cmd_is_args():
    c = cli_container("side", "docker.io/library/alpine:latest", "alpine-id", ["sh", "-c", "sleep 1"],
                      "2026-01-01T10:00:02Z", [], mounts=())
    c["Config"].update(Cmd=["-c", "sleep 1"], Entrypoint="sh")  # 4.3 joins the entrypoint into one string
    [pod] = export([PodData({"Name": "p", "InfraConfig": {}}, (c,), IMAGES)]).pods
    assert (pod.containers[0].command, pod.containers[0].args) == (("sh",), ("-c", "sleep 1"))


def managed(name, role, applied, pull_policy="IfNotPresent", mounts=(), **config):
    """A container as podspec's apply makes it, with its labels."""
    labels = {L.MANAGED_BY: L.MANAGER, L.PROJECT: "demo", L.POD: "web", L.CONTAINER: name, L.ROLE: role,
              L.LAST_APPLIED: json.dumps(applied), L.PULL_POLICY: pull_policy, L.HASH: "0" * 16}
    c = cli_container(f"web-{name}", "docker.io/library/busybox:latest", "busybox-id", ["sh"], "2026-01-01T10:00:00Z",
                      [], mounts=mounts, env=("PATH=/bin", "TERM=xterm", "container=podman", "HOME=/root", "HOSTNAME=web"))
    c["Config"].update(Labels=labels, CreateCommand=None, **config)
    c["HostConfig"]["RestartPolicy"] = {"Name": "always"}
    return c


def test_podspec_records_fill_in_what_podman_does_not_keep():
    """Names, order, pull policy, the image as written, emptyDir and ports without a host port."""
    scratch = {"Type": "volume", "Name": "web-scratch", "Destination": "/scratch", "RW": True}
    data = {"Type": "volume", "Name": "web-data", "Destination": "/data", "RW": False}
    second = managed("second", "container", {"image": "busybox:latest", "ports": ["9000/TCP", "8081->81/TCP"],
                                             "volumeMounts": {"/scratch": {"volume": "tmp", "source": "emptyDir"},
                                                              "/data": {"volume": "d", "source": "volume:web-data:ro"}}},
                     pull_policy="Never", mounts=(scratch, data))
    first = managed("first", "container", {"image": "busybox:latest"}, pull_policy="Always")
    first["Created"] = "2026-01-01T10:00:09Z"  # created later, yet first in the manifest
    pod = {"Name": "web", "Hostname": "", "InfraConfig": {"PortBindings": {
        "80/tcp": [{"HostIp": "", "HostPort": "8080"}], "81/tcp": [{"HostIp": "", "HostPort": "8081"}]}},
        "Labels": {L.MANAGED_BY: L.MANAGER, L.CONTAINERS: "first,second", L.INIT_TYPE: "once", "tier": "web"}}
    result = export([PodData(pod, (second, first), IMAGES, {"web-data": {"Labels": {L.MANAGED_BY: L.MANAGER}}})])
    [exported] = result.pods
    assert [c.name for c in exported.containers] == ["first", "second"]
    assert exported.labels == (("tier", "web"),)
    one, two = exported.containers
    assert one.image == "busybox:latest" and one.pull_policy is PullPolicy.ALWAYS
    assert one.ports == (PortMapping(80, 8080),)  # not recorded anywhere: the first container's
    assert two.pull_policy is PullPolicy.NEVER
    assert two.ports == (PortMapping(81, 8081), PortMapping(9000, None, "", Protocol.TCP))
    assert two.volume_mounts == (VolumeMount("d", "/data"), VolumeMount("tmp", "/scratch"))
    assert exported.volumes == (Volume("d", VolumeKind.CLAIM, claim_name="web-data", read_only=True),
                                Volume("tmp", VolumeKind.EMPTY_DIR))
    assert result.claims == (VolumeClaim("web-data"),)


def test_host_paths_and_names_of_hand_made_volumes():
    bind = {"Type": "bind", "Source": "/srv/My_Data/", "Destination": "/data", "RW": False}
    c = cli_container("x", "docker.io/library/alpine:latest", "alpine-id", ["/bin/sh"], "t", [], mounts=(bind,))
    [pod] = export([PodData({"Name": "p", "InfraConfig": {}}, (c,), IMAGES)]).pods
    assert pod.volumes == (Volume("srv-my-data-host", VolumeKind.HOST_PATH, host_path="/srv/My_Data/"),)
    assert pod.containers[0].volume_mounts == (VolumeMount("srv-my-data-host", "/data", read_only=True),)


def test_container_names():
    assert container_name_in_manifest("web", "web-nginx") == "nginx"
    assert container_name_in_manifest("web", "apache_httpd") == "apache-httpd"
    assert container_name_in_manifest("web", "Web") == "web"


def test_a_pod_of_init_containers_only_cannot_be_exported():
    data = tutorial_pod()
    with pytest.raises(PodspecError, match="no containers besides init containers"):
        export([PodData(data.pod, (data.containers[2],), IMAGES, data.volumes)])


def test_quantities():
    assert [manifest_writer.cpu_quantity(m) for m in (1000, 2000, 250, 1)] == ["1", "2", "250m", "1m"]
    assert [manifest_writer.memory_quantity(b) for b in (2**30, 64 * 2**20, 1536, 1000)] == ["1Gi", "64Mi", "1536", "1000"]
    assert manifest_writer.memory_quantity(3 * 2**10) == "3Ki"
    assert manifest_writer.memory_quantity(1000) == "1000"


def test_json_is_a_kubernetes_list():
    result = export([tutorial_pod()])
    data = json.loads(manifest_writer.to_json(manifest_writer.documents(result.pods, result.claims)))
    assert data["kind"] == "List" and [i["kind"] for i in data["items"]] == ["PersistentVolumeClaim", "Pod"]


def test_every_default_vanishes():
    """A model of nothing but defaults writes nothing but names and images."""
    pod = Pod("p", (Container("c", "docker.io/library/httpd:2.4"),))
    assert manifest_writer.pod_document(pod) == {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"containers": [{"name": "c", "image": "docker.io/library/httpd:2.4"}]},
    }


def test_http_probe_headers_come_back_from_a_curl_health_check():
    """`podman kube play` makes an httpGet probe a curl health check (podspec probes from outside
    instead): export of such a pod reads it back."""
    probe = Probe(ProbeHandler.HTTP_GET, path="/healthz", port=8080,
                  headers=(("X-Custom-Header", "Awesome"), ("X-Quote", "it's 'quoted'")))
    check = {"Test": ["CMD-SHELL", "curl -f -H 'X-Custom-Header: Awesome' -H 'X-Quote: it'\"'\"'s '\"'\"'quoted'\"'\"'' "
                      "http://localhost:8080/healthz || exit 1"],
             "Interval": 10 * 10**9, "Timeout": 10**9, "Retries": 3, "StartPeriod": 0}
    c = cli_container("web", "docker.io/library/alpine:latest", "alpine-id", ["/bin/sh"], "2026-01-01T10:00:02Z", [],
                      mounts=(), stop_timeout=30)
    c["Config"].update(Healthcheck=check)
    pod = {"Name": "p", "Hostname": "", "Labels": {}, "InfraConfig": {}}
    [exported] = export([PodData(pod, (c,), IMAGES)]).pods
    assert exported.containers[0].liveness_probe == probe
    doc = manifest_writer.container_document(exported.containers[0])
    assert doc["livenessProbe"]["httpGet"]["httpHeaders"] == [
        {"name": "X-Custom-Header", "value": "Awesome"}, {"name": "X-Quote", "value": "it's 'quoted'"}]
    assert kubernetes_problems(manifest_writer.to_yaml([manifest_writer.pod_document(exported)])) == []


def test_env_and_files_from_configmaps_and_secrets_come_back_as_references(tmp_path):
    """export reads podspec's record: a ConfigMap's env value and a Secret's come back as the keys
    they were read from (never as a Secret's value), and configMap/secret volumes with their files,
    although Podman shows those as env values and secrets, not as mounts."""
    from podspec.reconcile.intent import container_labels, pod_intent

    text = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {MODE: fast, app.conf: "a=1"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {token: s3cr3t}
---
apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: web
    image: docker.io/library/alpine:latest
    env:
    - name: MODE
      valueFrom: {configMapKeyRef: {name: settings, key: MODE}}
    - name: TOKEN
      valueFrom: {secretKeyRef: {name: creds, key: token}}
    - {name: PLAIN, value: "1"}
    volumeMounts:
    - {name: conf, mountPath: /etc/app}
    - {name: sec, mountPath: /run/sec, readOnly: true}
  volumes:
  - name: conf
    configMap: {name: settings, items: [{key: app.conf, path: conf/app.conf, mode: 0600}]}
  - name: sec
    secret: {secretName: creds}
"""
    path = tmp_path / "p.yaml"
    path.write_text(text)
    desired = load([str(path)])
    [intent] = pod_intent(desired.pods[0]).containers
    labels = container_labels("demo", "p", intent)
    secret_name = next(n for n in labels[L.SECRETS].split(",") if "-creds-" in n)
    c = cli_container("p-web", "docker.io/library/alpine:latest", "alpine-id", ["/bin/sh"], "2026-01-01T10:00:02Z", [],
                      mounts=(), env=("PATH=/bin", "MODE=fast", "PLAIN=1", "TOKEN=*******", f"{secret_name}=*******"),
                      stop_timeout=30, RestartPolicy={"Name": "always"})
    c["Config"]["Labels"] = labels
    exported = export([PodData({"Name": "p", "Hostname": "", "Labels": {}, "InfraConfig": {}}, (c,), IMAGES)])
    [pod] = exported.pods
    web = pod.containers[0]
    assert [(e.name, e.value, e.ref and (e.ref.kind.value, e.ref.source, e.ref.key)) for e in web.env] == [
        ("MODE", "", ("configMap", "settings", "MODE")), ("PLAIN", "1", None), ("TOKEN", "", ("secret", "creds", "token"))]
    assert [(v.name, v.kind, v.source, [(i.key, i.path, i.mode) for i in v.items]) for v in pod.volumes] == [
        ("conf", VolumeKind.CONFIG_MAP, "settings", [("app.conf", "conf/app.conf", 0o600)]),
        ("sec", VolumeKind.SECRET, "creds", [("token", "token", None)]),
    ]
    assert exported.notes == ("pod p reads ConfigMap settings: its document is not exported; apply it beside this file",
                              "pod p reads Secret creds: its document is not exported; apply it beside this file")
    written = manifest_writer.to_yaml([manifest_writer.pod_document(pod)])
    assert "s3cr3t" not in written and "*******" not in written
    back = tmp_path / "back.yaml"
    back.write_text(written + "---\n" + text.split("---\napiVersion: v1\nkind: Pod")[0])
    assert pod_intent(load([str(back)]).pods[0]) == pod_intent(desired.pods[0])
