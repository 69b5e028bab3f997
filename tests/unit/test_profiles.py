"""Issue 27: Localhost security profiles. seccomp profiles are files under one fixed root
(model.SECCOMP_ROOT, as the kubelet's /var/lib/kubelet/seccomp); a name that climbs out of it or is
absolute is refused by the loader under every policy. AppArmor names that Podman reads as no
profile (unconfined), absolute or climbing ones do not get past baseline or restricted."""

from __future__ import annotations

from pathlib import Path

import pytest

from podspec.engine.specgen import container_body
from podspec.errors import ManifestError
from podspec.labels import Role
from podspec.loader import load
from podspec.model import SECCOMP_ROOT
from podspec.policy import Policy, Profile, check

BASELINE, RESTRICTED, PRIVILEGED = Policy(Profile.BASELINE), Policy(Profile.RESTRICTED), Policy(Profile.PRIVILEGED)


def _pod(tmp_path: Path, security: str = "", annotations: str = "") -> str:
    path = tmp_path / "pod.yaml"
    path.write_text(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n"
        + (f"  annotations:\n{annotations}" if annotations else "")
        + "spec:\n  containers:\n    - name: app\n      image: alpine\n"
        + (f"      securityContext:\n{security}" if security else "")
    )
    return str(path)


def _problems(path: str) -> list[str]:
    with pytest.raises(ManifestError) as caught:
        load([path])
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize("name,why", [
    ("/etc/podspec/seccomp/../../../tmp/x.json", "is an absolute path"),
    ("/unconfined", "is an absolute path"),
    ("../../../tmp/evil.json", "contains .."),
    ("profiles/../../x.json", "contains .."),
    (" ", "is empty"),
])
def test_seccomp_localhost_names_that_leave_the_root_are_refused_under_every_policy(tmp_path, name, why):
    field = _pod(tmp_path, f"        seccompProfile: {{type: Localhost, localhostProfile: {name!r}}}\n")
    assert any(f"the Localhost seccomp profile {name!r} {why}" in p and SECCOMP_ROOT in p for p in _problems(field))
    annotated = _pod(tmp_path, annotations=f"    seccomp.security.alpha.kubernetes.io/pod: 'localhost/{name}'\n")
    assert any(f"the Localhost seccomp profile {name!r} {why}" in p for p in _problems(annotated))


@pytest.mark.parametrize("name", ["unconfined", "profiles/audit.json", "default"])
def test_seccomp_localhost_profiles_resolve_under_the_root(tmp_path, name):
    desired = load([_pod(tmp_path, f"        seccompProfile: {{type: Localhost, localhostProfile: {name}}}\n")])
    assert all("securityContext.seccompProfile" not in str(p) for p in check(desired, RESTRICTED))
    pod = desired.pods[0]
    body = container_body(pod, pod.containers[0], Role.CONTAINER, {})
    assert body["seccomp_profile_path"] == f"{SECCOMP_ROOT}/{name}"  # never "unconfined" as Podman reads it


@pytest.mark.parametrize("name,why", [
    ("unconfined", "Podman reads this name as no profile at all"),
    ("Unconfined", "Podman reads this name as no profile at all"),
    ("/usr/bin/evil", "the name is an absolute path"),
    ("../x", "the name contains .."),
])
def test_apparmor_names_with_no_confinement_do_not_pass_baseline_or_restricted(tmp_path, name, why):
    desired = load([_pod(tmp_path, f"        appArmorProfile: {{type: Localhost, localhostProfile: {name!r}}}\n")])
    for policy in (BASELINE, RESTRICTED):
        assert any(f"AppArmor profile {name!r} is not allowed: {why}" in str(p) for p in check(desired, policy))
    assert not check(desired, PRIVILEGED)
    annotated = load([_pod(tmp_path, annotations=f"    container.apparmor.security.beta.kubernetes.io/app: 'localhost/{name}'\n")])
    assert any("AppArmor profile localhost/" in str(p) for p in check(annotated, BASELINE))


def test_a_loaded_apparmor_profile_passes(tmp_path):
    desired = load([_pod(tmp_path, "        appArmorProfile: {type: Localhost, localhostProfile: podspec-web}\n")])
    assert not check(desired, BASELINE)


# -- annotations that reach the runtime ------------------------------------------------------------

RUNTIME_KEYS = ["run.oci.keep_original_groups", "io.containers.trace-syscall", "run.oci.hooks.foo",
                "io.kubernetes.cri.rdt-class", "org.opencontainers.image.stopSignal", "nvidia.com/gpu"]


@pytest.mark.parametrize("key", RUNTIME_KEYS)
def test_runtime_annotations_are_refused_unless_allowed_by_name(tmp_path, key):
    desired = load([_pod(tmp_path, annotations=f"    {key}: '1'\n")])
    for policy in (BASELINE, RESTRICTED):
        found = [str(p) for p in check(desired, policy)]
        assert any(f"annotation {key} would reach the container runtime" in p for p in found), found
    assert not check(desired, PRIVILEGED)
    allowed = Policy(Profile.BASELINE, annotations=frozenset({key}))
    assert not [p for p in check(desired, allowed) if "would reach the container runtime" in str(p)]
    prefix = Policy(Profile.BASELINE, annotations=frozenset({key.split(".")[0] + ".*"}))
    assert not [p for p in check(desired, prefix) if "would reach the container runtime" in str(p)]


def test_plain_annotations_pass_and_podspecs_own_are_not_the_runtimes(tmp_path):
    desired = load([_pod(tmp_path, annotations="    example.com/owner: me\n    io.podman.annotations.init.container.type: always\n")])
    assert all("would reach the container runtime" not in str(p) for p in check(desired, RESTRICTED))


def test_allowed_annotations_come_from_the_environment_and_podspec_toml(tmp_path):
    from podspec.errors import PodspecError
    from podspec.run.manifests import policy_from
    from podspec.run.projectfile import load as load_project

    policy = policy_from(None, None, None, None, {"PODSPEC_ALLOW_ANNOTATIONS": "run.oci.*,io.containers.trace-syscall"})
    assert policy.allows_annotation("run.oci.keep_original_groups") and policy.allows_annotation("io.containers.trace-syscall")
    assert not policy.allows_annotation("io.containers.trace-syscall2")
    with pytest.raises(PodspecError, match="not an annotation key"):
        policy_from(None, None, None, None, {"PODSPEC_ALLOW_ANNOTATIONS": "*"})
    toml = tmp_path / "podspec.toml"
    toml.write_text('[policy]\nallow_annotations = ["run.oci.keep_original_groups"]\n')
    assert load_project(toml).as_env()["PODSPEC_ALLOW_ANNOTATIONS"] == "run.oci.keep_original_groups"
