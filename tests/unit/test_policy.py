"""The security policy gate: each rule of each profile on real YAML through the loader, with the exact
problem text (file:line:col, field, rule, hint); allow-lists; flag/environment precedence; the CLI's
exit codes; the tutorial manifest."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from textwrap import dedent

import pytest
from typer.testing import CliRunner

from podspec.cli import app
from podspec.errors import PodspecError, PolicyError
from podspec.loader import load
from podspec.policy import Policy, Profile, check, enforce, normalize_path, split_list
from podspec.run.manifests import policy_from

ROOT = Path(__file__).resolve().parents[2]
BASELINE = Policy(Profile.BASELINE)
RESTRICTED = Policy(Profile.RESTRICTED)
PRIVILEGED = Policy(Profile.PRIVILEGED)
runner = CliRunner()


@pytest.fixture(autouse=True)
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("PODSPEC_POLICY", "PODSPEC_ALLOW_HOST_PATHS", "PODSPEC_ALLOW_HOST_PORTS", "PODSPEC_ALLOW_CAPABILITIES"):
        monkeypatch.delenv(name, raising=False)


def violations(text: str, policy: Policy = BASELINE, name: str = "pod.yaml") -> list[str]:
    Path(name).write_text(dedent(text))
    return [str(p) for p in check(load([name]), policy)]


def pod(container: str = "", spec: str = "", init: str = "") -> str:
    """A one-container pod: `spec` lines go under spec (line 6 on), then init containers, then the container."""
    return (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n" + spec
        + (f"  initContainers:\n    - name: init\n      image: busybox\n{init}" if init else "")
        + f"  containers:\n    - name: app\n      image: alpine\n{container}"
    )


# -- baseline ---------------------------------------------------------------------------------------

PRIV = "use --policy privileged for this manifest"

BASELINE_CASES = {
    # rule: (violating pod, [exact problems], conforming pod)
    "privileged": (
        pod(container="      securityContext:\n        privileged: true\n"),
        [f"pod.yaml:10:9: spec.containers[0].securityContext.privileged: baseline: privileged containers are not "
         f"allowed ({PRIV}, or remove privileged: true)"],
        pod(container="      securityContext:\n        privileged: false\n"),
    ),
    "privileged init container": (
        pod(init="      securityContext: {privileged: true}\n"),
        [f"pod.yaml:9:25: spec.initContainers[0].securityContext.privileged: baseline: privileged containers are "
         f"not allowed ({PRIV}, or remove privileged: true)"],
        pod(init="      securityContext: {privileged: false}\n"),
    ),
    "hostNetwork": (
        pod(spec="  hostNetwork: true\n"),
        [f"pod.yaml:6:3: spec.hostNetwork: baseline: sharing the host's network namespace (hostNetwork) is not "
         f"allowed ({PRIV}, or remove hostNetwork: true (publish ports with hostPort instead))"],
        pod(spec="  hostNetwork: false\n"),
    ),
    "hostPID": (
        pod(spec="  hostPID: true\n"),
        [f"pod.yaml:6:3: spec.hostPID: baseline: sharing the host's PID namespace (hostPID) is not allowed "
         f"({PRIV}, or remove hostPID: true)"],
        pod(spec="  hostPID: false\n"),
    ),
    "hostIPC": (
        pod(spec="  hostIPC: true\n"),
        [f"pod.yaml:6:3: spec.hostIPC: baseline: sharing the host's IPC namespace (hostIPC) is not allowed "
         f"({PRIV}, or remove hostIPC: true)"],
        pod(spec="  hostIPC: false\n"),
    ),
    "hostPath": (
        pod(spec="  volumes:\n    - name: root\n      hostPath:\n        path: /\n"),
        ["pod.yaml:9:9: spec.volumes[0].hostPath.path: baseline: hostPath volume / is not allowed "
         "(--allow-host-path / allows exactly that path and paths below it; or use a persistentVolumeClaim)"],
        pod(spec="  volumes:\n    - name: data\n      emptyDir: {}\n"),
    ),
    "capabilities": (
        pod(container="      securityContext:\n        capabilities:\n          add: [CHOWN, cap_sys_admin, NET_ADMIN]\n"),
        [
            "pod.yaml:11:11: spec.containers[0].securityContext.capabilities.add: baseline: adding capability "
            "NET_ADMIN is not allowed (--allow-capability NET_ADMIN allows exactly this capability; or remove it "
            "from capabilities.add)",
            "pod.yaml:11:11: spec.containers[0].securityContext.capabilities.add: baseline: adding capability "
            "SYS_ADMIN is not allowed (--allow-capability SYS_ADMIN allows exactly this capability; or remove it "
            "from capabilities.add)",
        ],
        pod(container="      securityContext:\n        capabilities:\n          add: [" + ", ".join(sorted([
            "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
            "SETFCAP", "SETGID", "SETPCAP", "SETUID", "CAP_SYS_CHROOT"])) + "]\n"),
    ),
    "seccomp": (
        pod(container="      securityContext:\n        seccompProfile:\n          type: Unconfined\n"),
        [f"pod.yaml:11:11: spec.containers[0].securityContext.seccompProfile.type: baseline: seccomp profile "
         f"Unconfined is not allowed ({PRIV}, or use type RuntimeDefault)"],
        pod(container="      securityContext:\n        seccompProfile:\n          type: RuntimeDefault\n"),
    ),
    "seccomp of the pod, inherited by every container: reported once, at the pod's field": (
        pod(spec="  securityContext:\n    seccompProfile: {type: Unconfined}\n", init="      command: [sh]\n"),
        [f"pod.yaml:7:22: spec.securityContext.seccompProfile.type: baseline: seccomp profile Unconfined is not "
         f"allowed ({PRIV}, or use type RuntimeDefault)"],
        pod(spec="  securityContext:\n    seccompProfile: {type: Unconfined}\n", init="      command: [sh]\n",
            container="      securityContext:\n        seccompProfile: {type: RuntimeDefault}\n").replace(
            "    - name: init\n      image: busybox\n",
            "    - name: init\n      image: busybox\n      securityContext: {seccompProfile: {type: RuntimeDefault}}\n"),
    ),
    "AppArmor": (
        pod(container="      securityContext:\n        appArmorProfile:\n          type: Unconfined\n"),
        [f"pod.yaml:11:11: spec.containers[0].securityContext.appArmorProfile.type: baseline: AppArmor profile "
         f"Unconfined is not allowed ({PRIV}, or use type RuntimeDefault)"],
        pod(container="      securityContext:\n        appArmorProfile:\n          type: Localhost\n"
                      "          localhostProfile: k8s-apparmor-example\n"),
    ),
    "AppArmor annotation": (
        pod().replace("  name: web\n", "  name: web\n  annotations:\n"
                      "    container.apparmor.security.beta.kubernetes.io/app: unconfined\n"),
        [f"pod.yaml:6:5: metadata.annotations.container.apparmor.security.beta.kubernetes.io/app: baseline: AppArmor "
         f"profile unconfined is not allowed ({PRIV}, or use runtime/default or localhost/<profile>)"],
        pod().replace("  name: web\n", "  name: web\n  annotations:\n"
                      "    container.apparmor.security.beta.kubernetes.io/app: runtime/default\n"),
    ),
    "procMount": (
        pod(container="      securityContext:\n        procMount: Unmasked\n"),
        [f"pod.yaml:10:9: spec.containers[0].securityContext.procMount: baseline: procMount Unmasked is not allowed "
         f"({PRIV}, or remove procMount (Default))"],
        pod(container="      securityContext:\n        procMount: Default\n"),
    ),
    "sysctls": (
        pod(spec="  securityContext:\n    sysctls:\n      - {name: net.ipv4.tcp_syncookies, value: '1'}\n"
                 "      - {name: kernel.msgmax, value: '65536'}\n"),
        [f"pod.yaml:7:5: spec.securityContext.sysctls: baseline: sysctl kernel.msgmax is not allowed (not in the "
         f"safe set) ({PRIV}, or remove the sysctl kernel.msgmax)"],
        pod(spec="  securityContext:\n    sysctls:\n" + "".join(
            f"      - {{name: {name}, value: '1'}}\n" for name in (
                "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
                "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes"))),
    ),
    "host ports are allowed (a documented difference from Kubernetes)": (
        None, [],
        pod(container="      ports:\n        - {containerPort: 80, hostPort: 8080}\n"),
    ),
}


@pytest.mark.parametrize("rule", BASELINE_CASES)
def test_baseline_rule(rule):
    bad, expected, good = BASELINE_CASES[rule]
    if bad is not None:
        assert violations(bad) == expected
        assert violations(bad, PRIVILEGED) == []
    assert violations(good) == []


# -- restricted -------------------------------------------------------------------------------------

SAFE = (
    "      securityContext:\n"          # line 9 (container) / 6 (pod spec)
    "        runAsNonRoot: true\n"
    "        runAsUser: 1000\n"
    "        allowPrivilegeEscalation: false\n"
    "        seccompProfile: {type: RuntimeDefault}\n"
    "        capabilities: {drop: [ALL]}\n"
)
NOT_RESTRICTED = "use --policy baseline for this manifest"


def safe(replace: str = "", by: str = "", extra: str = "") -> str:
    """A pod that passes restricted, with one line of the container's securityContext changed."""
    assert replace in SAFE
    return pod(container=SAFE.replace(replace, by) + extra)


RESTRICTED_CASES = {
    "allowPrivilegeEscalation missing": (
        safe("        allowPrivilegeEscalation: false\n"),
        [f"pod.yaml:9:7: spec.containers[0].securityContext.allowPrivilegeEscalation: restricted: "
         f"allowPrivilegeEscalation must be false ({NOT_RESTRICTED}, or set allowPrivilegeEscalation: false)"],
    ),
    "allowPrivilegeEscalation true": (
        safe("allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true"),
        [f"pod.yaml:12:9: spec.containers[0].securityContext.allowPrivilegeEscalation: restricted: "
         f"allowPrivilegeEscalation must be false ({NOT_RESTRICTED}, or set allowPrivilegeEscalation: false)"],
    ),
    "runAsNonRoot missing": (
        safe("        runAsNonRoot: true\n"),
        [f"pod.yaml:9:7: spec.containers[0].securityContext.runAsNonRoot: restricted: runAsNonRoot must be true "
         f"({NOT_RESTRICTED}, or set runAsNonRoot: true in the pod's or this container's securityContext)"],
    ),
    "runAsNonRoot false": (
        safe("runAsNonRoot: true", "runAsNonRoot: false"),
        [f"pod.yaml:10:9: spec.containers[0].securityContext.runAsNonRoot: restricted: runAsNonRoot must be true "
         f"({NOT_RESTRICTED}, or set runAsNonRoot: true in the pod's or this container's securityContext)"],
    ),
    "runAsUser 0": (
        safe("runAsUser: 1000", "runAsUser: 0"),
        [f"pod.yaml:11:9: spec.containers[0].securityContext.runAsUser: restricted: runAsUser must not be 0 (root) "
         f"({NOT_RESTRICTED}, or set a non-zero runAsUser)"],
    ),
    "seccompProfile missing": (
        safe("        seccompProfile: {type: RuntimeDefault}\n"),
        [f"pod.yaml:9:7: spec.containers[0].securityContext.seccompProfile: restricted: seccompProfile must be "
         f"RuntimeDefault or Localhost ({NOT_RESTRICTED}, or set seccompProfile: {{type: RuntimeDefault}} in the "
         f"pod's or this container's securityContext)"],
    ),
    "seccompProfile Unconfined (a baseline rule, named by the profile in force)": (
        safe("RuntimeDefault", "Unconfined"),
        [f"pod.yaml:13:26: spec.containers[0].securityContext.seccompProfile.type: restricted: seccomp profile "
         f"Unconfined is not allowed ({PRIV}, or use type RuntimeDefault)"],
    ),
    "capabilities drop missing": (
        safe("        capabilities: {drop: [ALL]}\n"),
        [f"pod.yaml:9:7: spec.containers[0].securityContext.capabilities.drop: restricted: capabilities must drop "
         f"ALL ({NOT_RESTRICTED}, or add ALL to capabilities.drop)"],
    ),
    "capabilities drop without ALL": (
        safe("[ALL]", "[NET_RAW]"),
        [f"pod.yaml:14:24: spec.containers[0].securityContext.capabilities.drop: restricted: capabilities must drop "
         f"ALL ({NOT_RESTRICTED}, or add ALL to capabilities.drop)"],
    ),
    "capabilities add beyond NET_BIND_SERVICE": (
        safe("{drop: [ALL]}", "{drop: [ALL], add: [NET_BIND_SERVICE, CHOWN]}"),
        ["pod.yaml:14:37: spec.containers[0].securityContext.capabilities.add: restricted: adding capability CHOWN "
         "is not allowed (--allow-capability CHOWN allows exactly this capability; or remove it from "
         "capabilities.add)"],
    ),
    "host port not on the allow-list": (
        safe(extra="      ports:\n        - containerPort: 80\n          hostPort: 8080\n"),
        ["pod.yaml:17:11: spec.containers[0].ports[0].hostPort: restricted: host port 8080 is not allowed "
         "(--allow-host-port 8080 allows exactly this port; or use --policy baseline)"],
    ),
    "privileged (a baseline rule)": (
        safe(extra="").replace("runAsNonRoot: true\n", "runAsNonRoot: true\n        privileged: true\n"),
        [f"pod.yaml:11:9: spec.containers[0].securityContext.privileged: restricted: privileged containers are not "
         f"allowed ({PRIV}, or remove privileged: true)"],
    ),
    "hostPath volume": (
        safe(extra="      volumeMounts: [{name: data, mountPath: /data}]\n").replace(
            "spec:\n", "spec:\n  volumes:\n    - name: data\n      hostPath: {path: /srv/data}\n"),
        ["pod.yaml:8:18: spec.volumes[0].hostPath.path: restricted: hostPath volume /srv/data is not allowed "
         "(--allow-host-path /srv/data allows exactly that path and paths below it; or use a "
         "persistentVolumeClaim)"],
    ),
}


@pytest.mark.parametrize("rule", RESTRICTED_CASES)
def test_restricted_rule(rule):
    bad, expected = RESTRICTED_CASES[rule]
    assert violations(bad, RESTRICTED) == expected
    assert violations(bad, PRIVILEGED) == []


def test_restricted_conforming_pod_passes():
    volumes = (
        "  volumes:\n    - name: claim\n      persistentVolumeClaim: {claimName: data}\n"
        "    - name: scratch\n      emptyDir: {}\n"
    )
    text = safe("{drop: [ALL]}", "{drop: [ALL], add: [NET_BIND_SERVICE]}").replace("spec:\n", "spec:\n" + volumes)
    assert violations(text, RESTRICTED) == []
    assert violations(text, BASELINE) == []


def test_restricted_pod_level_fields_cover_every_container_and_init_container():
    pod_level = (
        "  securityContext:\n    runAsNonRoot: true\n    runAsUser: 1000\n    seccompProfile: {type: RuntimeDefault}\n"
    )
    own = "      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n"
    assert violations(pod(spec=pod_level, init=own, container=own), RESTRICTED) == []


def test_restricted_pod_level_violation_is_reported_once_at_the_pod():
    pod_level = "  securityContext:\n    runAsNonRoot: false\n    runAsUser: 0\n    seccompProfile: {type: RuntimeDefault}\n"
    own = "      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}\n"
    assert violations(pod(spec=pod_level, init=own, container=own), RESTRICTED) == [
        f"pod.yaml:7:5: spec.securityContext.runAsNonRoot: restricted: runAsNonRoot must be true ({NOT_RESTRICTED}, "
        "or set runAsNonRoot: true in the pod's or this container's securityContext)",
        f"pod.yaml:8:5: spec.securityContext.runAsUser: restricted: runAsUser must not be 0 (root) ({NOT_RESTRICTED}, "
        "or set a non-zero runAsUser)",
    ]


def test_restricted_container_value_wins_over_the_pod():
    pod_level = "  securityContext:\n    runAsNonRoot: true\n    runAsUser: 1000\n    seccompProfile: {type: RuntimeDefault}\n"
    own = "      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}, runAsUser: 0}\n"
    assert violations(pod(spec=pod_level, container=own), RESTRICTED) == [
        f"pod.yaml:13:87: spec.containers[0].securityContext.runAsUser: restricted: runAsUser must not be 0 (root) "
        f"({NOT_RESTRICTED}, or set a non-zero runAsUser)",
    ]


def test_restricted_checks_init_containers():
    text = pod(init="      command: [sh]\n", container=SAFE)
    assert [p.split(": ")[1] for p in violations(text, RESTRICTED)] == [
        "spec.initContainers[0].securityContext.allowPrivilegeEscalation",
        "spec.initContainers[0].securityContext.capabilities.drop",
        "spec.initContainers[0].securityContext.runAsNonRoot",
        "spec.initContainers[0].securityContext.seccompProfile",
    ]
    assert violations(text, RESTRICTED)[0].startswith("pod.yaml:7:7: ")  # the init container's node


def test_privileged_profile_checks_nothing():
    text = pod(
        spec="  hostNetwork: true\n  hostPID: true\n  hostIPC: true\n  volumes:\n    - {name: root, hostPath: {path: /}}\n",
        container="      securityContext:\n        privileged: true\n        capabilities: {add: [ALL]}\n"
                  "        procMount: Unmasked\n        seccompProfile: {type: Unconfined}\n",
    )
    assert violations(text, PRIVILEGED) == []
    assert len(violations(text, BASELINE)) == 8
    assert len(violations(text, RESTRICTED)) == 11


# -- allow-lists ------------------------------------------------------------------------------------

def host_path_pod(path: str) -> str:
    return pod(spec=f"  volumes:\n    - name: data\n      hostPath:\n        path: {path}\n")


@pytest.mark.parametrize("path, allowed", [
    ("/srv/data", True),
    ("/srv/data/", True),
    ("/srv/data/sub/dir", True),
    ("/srv//data/./sub", True),
    ("/srv/database", False),  # a sibling that shares the prefix
    ("/srv", False),  # the parent
    ("/srv/data/../../etc", False),  # climbs out
    ("/srv/data/..", False),
    ("/etc", False),
])
def test_host_path_allow_list(path, allowed):
    policy = Policy(Profile.BASELINE, host_paths=frozenset({"/srv/data"}))
    found = violations(host_path_pod(path), policy)
    assert found == ([] if allowed else [
        f"pod.yaml:9:9: spec.volumes[0].hostPath.path: baseline: hostPath volume {path} is not allowed "
        f"(--allow-host-path {normalize_path(path)} allows exactly that path and paths below it; or use a "
        "persistentVolumeClaim)"
    ])


def test_host_path_traversal_hint_names_the_real_target():
    assert "--allow-host-path /etc allows" in violations(host_path_pod("/srv/data/../../etc"))[0]


def test_host_path_allow_list_holds_under_restricted_too():
    text = safe(extra="").replace("spec:\n", "spec:\n  volumes:\n    - {name: data, hostPath: {path: /srv/data/x}}\n")
    assert violations(text, Policy(Profile.RESTRICTED, host_paths=frozenset({"/srv/data"}))) == []
    assert len(violations(text, RESTRICTED)) == 1


def test_capability_allow_list_permits_exactly_the_named_one():
    text = pod(container="      securityContext:\n        capabilities: {add: [NET_ADMIN, SYS_ADMIN]}\n")
    found = violations(text, Policy(Profile.BASELINE, capabilities=frozenset({"NET_ADMIN"})))
    assert [p.split(": ", 2)[2] for p in found] == [
        "baseline: adding capability SYS_ADMIN is not allowed (--allow-capability SYS_ADMIN allows exactly this "
        "capability; or remove it from capabilities.add)"
    ]
    restricted = safe("{drop: [ALL]}", "{drop: [ALL], add: [NET_ADMIN]}")
    assert violations(restricted, Policy(Profile.RESTRICTED, capabilities=frozenset({"NET_ADMIN"}))) == []


def test_host_port_allow_list_under_restricted():
    text = safe(extra="      ports:\n        - {containerPort: 80, hostPort: 8080}\n        - {containerPort: 443, hostPort: 8443}\n")
    found = violations(text, Policy(Profile.RESTRICTED, host_ports=frozenset({8080})))
    assert found == [
        "pod.yaml:17:32: spec.containers[0].ports[1].hostPort: restricted: host port 8443 is not allowed "
        "(--allow-host-port 8443 allows exactly this port; or use --policy baseline)"
    ]


# -- every file, one error --------------------------------------------------------------------------

def test_every_violation_in_every_file_in_one_error():
    Path("b.yaml").write_text(pod(spec="  hostNetwork: true\n").replace("name: web", "name: b"))
    Path("a.yaml").write_text(pod(container="      securityContext: {privileged: true}\n").replace("name: web", "name: a"))
    with pytest.raises(PolicyError) as caught:
        enforce(load(["b.yaml", "a.yaml"]), BASELINE)
    assert [f"{p.origin}: {p.path}" for p in caught.value.problems] == [
        "a.yaml:9:25: spec.containers[0].securityContext.privileged",
        "b.yaml:6:3: spec.hostNetwork",
    ]
    assert caught.value.message == "2 problems in the manifests"


def test_policy_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        BASELINE.profile = Profile.PRIVILEGED  # type: ignore[misc]


# -- flags and environment --------------------------------------------------------------------------

def test_default_is_baseline_with_empty_allow_lists():
    assert policy_from(None, None, None, None, env={}) == Policy(Profile.BASELINE)


def test_environment_is_read_and_lists_split_on_commas_and_colons():
    env = {
        "PODSPEC_POLICY": "restricted", "PODSPEC_ALLOW_HOST_PATHS": "/srv/data:/opt/app/,",
        "PODSPEC_ALLOW_HOST_PORTS": "8080,8443", "PODSPEC_ALLOW_CAPABILITIES": "net_admin:CAP_SYS_TIME",
    }
    assert policy_from(None, None, None, None, env=env) == Policy(
        Profile.RESTRICTED, frozenset({"/srv/data", "/opt/app"}), frozenset({8080, 8443}),
        frozenset({"NET_ADMIN", "SYS_TIME"}),
    )


def test_flags_win_over_environment_and_replace_its_lists():
    env = {
        "PODSPEC_POLICY": "privileged", "PODSPEC_ALLOW_HOST_PATHS": "/", "PODSPEC_ALLOW_HOST_PORTS": "1",
        "PODSPEC_ALLOW_CAPABILITIES": "SYS_ADMIN",
    }
    assert policy_from("baseline", ["/srv/data"], ["8080"], ["NET_ADMIN"], env=env) == Policy(
        Profile.BASELINE, frozenset({"/srv/data"}), frozenset({8080}), frozenset({"NET_ADMIN"}),
    )


@pytest.mark.parametrize("args, env, message", [
    (("strict", None, None, None), {}, "unknown security policy 'strict' (from --policy)"),
    ((None, None, None, None), {"PODSPEC_POLICY": "open"}, "unknown security policy 'open' (from PODSPEC_POLICY)"),
    ((None, ["srv/data"], None, None), {}, "host path 'srv/data' (from --allow-host-path) is not absolute"),
    ((None, None, None, None), {"PODSPEC_ALLOW_HOST_PORTS": "80,http"},
     "host port 'http' (from PODSPEC_ALLOW_HOST_PORTS) is not a port number"),
    ((None, None, ["0"], None), {}, "host port '0' (from --allow-host-port) is not a port number"),
    ((None, None, None, ["ALL"]), {}, "capability ALL (from --allow-capability) cannot be allowed wholesale"),
    ((None, None, None, ["net-admin"]), {}, "'net-admin' (from --allow-capability) is not a capability name"),
])
def test_invalid_settings_name_their_source(args, env, message):
    with pytest.raises(PodspecError) as caught:
        policy_from(*args, env=env)
    assert caught.value.message == message


def test_split_list_and_normalize_path():
    assert split_list(" a, b:c,, ") == ("a", "b", "c")
    assert normalize_path("//srv/./data/../data/") == "/srv/data"


# -- the CLI ----------------------------------------------------------------------------------------

PRIVILEGED_POD = pod(container="      securityContext:\n        privileged: true\n")
PRIVILEGED_LINE = (
    f"pod.yaml:10:9: spec.containers[0].securityContext.privileged: baseline: privileged containers are not "
    f"allowed ({PRIV}, or remove privileged: true)"
)


@pytest.fixture
def privileged_file() -> str:
    Path("pod.yaml").write_text(PRIVILEGED_POD)
    return "pod.yaml"


def test_validate_refuses_with_every_problem_and_exit_1(privileged_file):
    result = runner.invoke(app, ["validate", privileged_file])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        PRIVILEGED_LINE,
        "error: 1 problem in the manifests; fix the fields named above; nothing was changed on the host",
    ]


def test_validate_json(privileged_file):
    result = runner.invoke(app, ["validate", "-o", "json", privileged_file])
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [{
        "file": "pod.yaml", "line": 10, "column": 9, "path": "spec.containers[0].securityContext.privileged",
        "message": "baseline: privileged containers are not allowed",
        "hint": f"{PRIV}, or remove privileged: true",
    }]


def test_validate_with_policy_privileged_passes(privileged_file):
    result = runner.invoke(app, ["validate", "--policy", "privileged", privileged_file])
    assert (result.exit_code, result.stdout) == (0, "1 file, 1 pod, 0 volume claims: valid\n")


def test_flag_wins_over_environment_on_the_command_line(privileged_file):
    assert runner.invoke(app, ["validate", privileged_file], env={"PODSPEC_POLICY": "privileged"}).exit_code == 0
    refused = runner.invoke(app, ["validate", "--policy", "baseline", privileged_file], env={"PODSPEC_POLICY": "privileged"})
    assert refused.exit_code == 1
    assert refused.stderr.splitlines()[0] == PRIVILEGED_LINE


def test_allow_flags_on_the_command_line():
    Path("pod.yaml").write_text(host_path_pod("/srv/data/www"))
    assert runner.invoke(app, ["validate", "--allow-host-path", "/srv/data", "pod.yaml"]).exit_code == 0
    sibling = runner.invoke(app, ["validate", "--allow-host-path", "/srv/dat", "--allow-host-path", "/srv/www", "pod.yaml"])
    assert sibling.exit_code == 1
    assert runner.invoke(app, ["validate", "pod.yaml"], env={"PODSPEC_ALLOW_HOST_PATHS": "/opt:/srv/data"}).exit_code == 0


def test_unknown_profile_is_a_clear_error_with_exit_1(privileged_file):
    result = runner.invoke(app, ["validate", "--policy", "strict", privileged_file])
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "error: unknown security policy 'strict' (from --policy)",
        "  hint: choose one of: privileged, baseline, restricted",
    ]


@pytest.mark.parametrize("command", ["diff", "apply"])
def test_diff_and_apply_refuse_before_any_podman_call(privileged_file, tmp_path, command):
    # The URL names no service: reaching Podman would fail with another error.
    url = f"unix://{tmp_path}/no-podman.sock"
    result = runner.invoke(app, [command, privileged_file, "--url", url, "--project", "p"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == PRIVILEGED_LINE
    assert "no-podman.sock" not in result.output + result.stderr
    unchecked = runner.invoke(app, [command, "--policy", "privileged", privileged_file, "--url", url, "--project", "p"])
    assert unchecked.exit_code == 1
    assert "no-podman.sock" in unchecked.stderr  # with the policy lifted, it got as far as Podman


# -- the tutorial ---------------------------------------------------------------------------------

def test_tutorial_manifest_passes_baseline():
    result = runner.invoke(app, ["validate", str(ROOT / "manifests/webserver.yaml")])
    assert (result.exit_code, result.stdout) == (0, "1 file, 1 pod, 1 volume claim: valid\n")


def test_what_restricted_says_about_the_tutorial():
    """Its three containers set no securityContext, and httpd publishes host port 8080."""
    found = check(load([str(ROOT / "manifests/webserver.yaml")]), RESTRICTED)
    missing = [
        ("allowPrivilegeEscalation", "allowPrivilegeEscalation must be false"),
        ("capabilities.drop", "capabilities must drop ALL"),
        ("runAsNonRoot", "runAsNonRoot must be true"),
        ("seccompProfile", "seccompProfile must be RuntimeDefault or Localhost"),
    ]
    expected = sorted(
        [(f"spec.{c}.securityContext.{field}", f"restricted: {message}")
         for c in ("initContainers[0]", "containers[0]", "containers[1]") for field, message in missing]
        + [("spec.containers[0].ports[0].hostPort", "restricted: host port 8080 is not allowed")]
    )
    assert sorted((p.path, p.message) for p in found) == expected
    allowed = check(load([str(ROOT / "manifests/webserver.yaml")]), Policy(Profile.RESTRICTED, host_ports=frozenset({8080})))
    assert [p for p in allowed if p.path.endswith("hostPort")] == []
    assert len(allowed) == len(found) - 1
