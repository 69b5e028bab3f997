"""Pulls from a real registry server (tests/integration/registry.py): each pull policy, a moved tag
recreating exactly its containers, a digest not pulled again, credentials from an auth file, each
failure's message with the host unchanged, and the plain progress lines (golden text)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.integration.manifests import ids, podspec, write
from tests.integration.registry import PASSWORD, build_variant, push, remove_images_of

GOLDEN = Path(__file__).resolve().parent.parent / "unit" / "golden" / "pull_plain_registry.txt"


@pytest.fixture
def host(podman, registry, auth_registry):
    """The private Podman with nothing of the test registries pulled, before and after the test."""
    remove_images_of(podman, registry, auth_registry)
    yield podman
    remove_images_of(podman, registry, auth_registry)


def pod(name: str, *containers: tuple[str, str, str | None]) -> str:
    """A pod of sleeping containers: (container name, image, imagePullPolicy or None)."""
    lines = [f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n  terminationGracePeriodSeconds: 1\n"
             "  containers:"]
    for cname, image, policy in containers:
        lines.append(f"    - name: {cname}\n      image: {image}\n      command: [sleep, '100000']")
        if policy:
            lines.append(f"      imagePullPolicy: {policy}")
    return "\n".join(lines) + "\n"


def pull_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(("pull ", "pulled ", "pull of "))]


def image_of(podman, container: str) -> str:
    return podman.podman("inspect", "--format", "{{.Image}}", container).stdout.strip()


def pods_on(podman) -> list[str]:
    return podman.podman("pod", "ps", "--format", "{{.Name}}").stdout.split()


# ------------------------------------------------------------------------------- pull policies


def test_if_not_present_pulls_once(host, registry, tmp_path):
    build_variant(host, "localhost/ifnp:1", "if-not-present")
    push(host, registry, "localhost/ifnp:1", "ifnp:1")
    host.podman("rmi", "localhost/ifnp:1")
    ref = registry.ref("ifnp:1")
    manifest = write(tmp_path, pod("ifnp", ("main", ref, "IfNotPresent")))
    first = podspec(host, "apply", manifest)
    assert first.exit_code == 0, first.stderr
    assert [line.split(" in ")[0] for line in pull_lines(first.output)] == [
        f"pull {ref} (imagePullPolicy IfNotPresent) ...", f"pulled {ref}"]
    assert host.podman("exec", "ifnp-main", "cat", "/marker").stdout == "if-not-present\n"
    again = podspec(host, "apply", manifest)
    assert again.exit_code == 0 and pull_lines(again.output) == []
    assert "Nothing to do." in again.output


def test_never_refuses_an_absent_image_and_uses_a_present_one(host, registry, tmp_path):
    build_variant(host, "localhost/never:1", "never")
    push(host, registry, "localhost/never:1", "never:1")
    ref = registry.ref("never:1")
    manifest = write(tmp_path, pod("never", ("main", ref, "Never")))
    refused = podspec(host, "apply", manifest)
    assert refused.exit_code == 1
    assert f"image {ref} (used by never/main) is not on the host and imagePullPolicy is Never" in refused.stderr
    assert pods_on(host) == []
    host.podman("pull", "--tls-verify=false", "-q", ref)
    applied = podspec(host, "apply", manifest)
    assert applied.exit_code == 0, applied.stderr
    assert pull_lines(applied.output) == []


def test_always_pulls_and_a_moved_tag_recreates_exactly_its_containers(host, registry, tmp_path):
    build_variant(host, "localhost/moving:1", "first")
    build_variant(host, "localhost/steady:1", "steady")
    push(host, registry, "localhost/moving:1", "moving:latest")
    push(host, registry, "localhost/steady:1", "steady:1")
    moving, steady = registry.ref("moving:latest"), registry.ref("steady:1")
    manifest = write(tmp_path, pod("web", ("app", moving, None), ("side", steady, None))
                     + "---\n" + pod("other", ("main", steady, None)))
    first = podspec(host, "apply", manifest)
    assert first.exit_code == 0, first.stderr
    before = ids(host)
    assert host.podman("exec", "web-app", "cat", "/marker").stdout == "first\n"

    # Nothing moved: Always pulls again, finds the same image, changes nothing.
    same = podspec(host, "apply", manifest)
    assert same.exit_code == 0, same.stderr
    assert any(line.startswith(f"pulled {moving} ") and line.endswith("the image is unchanged")
               for line in pull_lines(same.output)), same.output
    assert "Nothing to do." in same.output and ids(host) == before

    # The tag moves in the registry. diff never pulls, so it cannot know yet.
    build_variant(host, "localhost/moving:2", "second")
    push(host, registry, "localhost/moving:2", "moving:latest")
    assert podspec(host, "diff", manifest).exit_code == 0
    # Once the host has the new image (a pull by hand here), diff says why the container changes.
    host.podman("pull", "--tls-verify=false", "-q", moving)
    shown = podspec(host, "diff", manifest)
    assert shown.exit_code == 2
    assert f"{moving} now points to image" in shown.output

    applied = podspec(host, "apply", manifest)
    assert applied.exit_code == 0, applied.stderr
    after = ids(host)
    changed = sorted(name for name in before if after.get(name) != before[name])
    assert changed == ["web-app"]
    assert host.podman("exec", "web-app", "cat", "/marker").stdout == "second\n"
    assert podspec(host, "diff", manifest).exit_code == 0


def test_a_digest_reference_is_not_pulled_again(host, registry, tmp_path):
    build_variant(host, "localhost/pinned:1", "pinned")
    digest = push(host, registry, "localhost/pinned:1", "pinned:1")
    ref = f"{registry.host}/pinned@{digest}"
    manifest = write(tmp_path, pod("pinned", ("main", ref, "Always")))
    first = podspec(host, "apply", manifest)
    assert first.exit_code == 0, first.stderr
    assert [line.split(" in ")[0] for line in pull_lines(first.output)] == [
        f"pull {ref} (imagePullPolicy Always) ...", f"pulled {ref}"]
    registry_stopped_or_not = podspec(host, "apply", manifest)
    assert registry_stopped_or_not.exit_code == 0
    assert pull_lines(registry_stopped_or_not.output) == []
    assert "Nothing to do." in registry_stopped_or_not.output


# -------------------------------------------------------------------------------- credentials


def test_an_auth_file_authenticates_the_pull(host, auth_registry, tmp_path, monkeypatch):
    ref = auth_registry.ref("private/busybox:latest")
    manifest = write(tmp_path, pod("private", ("main", ref, "IfNotPresent")))
    refused = podspec(host, "apply", manifest)
    assert refused.exit_code == 1
    assert f"unauthorized: {auth_registry.host} asks for credentials and none were given" in refused.stderr
    assert pods_on(host) == []

    wrong = auth_registry.auth_file(tmp_path / "wrong.json", password="not-the-password")
    denied = podspec(host, "apply", manifest, "--authfile", str(wrong))
    assert denied.exit_code == 1
    assert f"{auth_registry.host} refused the credentials from the auth file {wrong}" in denied.stderr

    authfile = auth_registry.auth_file(tmp_path / "auth.json")
    applied = podspec(host, "apply", manifest, "--authfile", str(authfile))
    assert applied.exit_code == 0, applied.stderr
    outputs = [refused, denied, applied]

    # REGISTRY_AUTH_FILE, as podman kube play reads it
    host.podman("pod", "rm", "-f", "-t", "0", "private")
    remove_images_of(host, auth_registry)
    monkeypatch.setenv("REGISTRY_AUTH_FILE", str(authfile))
    by_env = podspec(host, "apply", manifest, "-o", "json")
    assert by_env.exit_code == 0, by_env.stderr
    outputs.append(by_env)

    shown = json.dumps(json.loads(host.podman("inspect", "private-main").stdout))
    log = (host.state / "service.log").read_text(errors="replace")  # the Podman service's own log
    for text in [shown, log, *(o.output + o.stderr for o in outputs)]:
        assert PASSWORD not in text


# ------------------------------------------------------------------------------------ failures


def failure_cases(registry, auth_registry, tls_registry) -> dict[str, tuple[str, str]]:
    """name -> (image, what the error says)."""
    dead = f"127.0.0.1:{free_port()}"
    return {
        "unauthorized": (auth_registry.ref("private/busybox:latest"),
                         f"unauthorized: {auth_registry.host} asks for credentials and none were given"),
        "no such repository": (registry.ref("nosuch/repo:1"), f"not found: {registry.host} has no repository nosuch/repo"),
        "no such tag": (registry.ref("library/busybox:nosuchtag"),
                        f"not found: {registry.host} has repository library/busybox but no tag nosuchtag in it"),
        "unreachable": (f"{dead}/app:1", f"unreachable: cannot reach the registry {dead}"),
        "tls": (tls_registry.ref("app:1"),
                f"TLS failure: the TLS connection to {tls_registry.host} failed (its certificate is not trusted"),
    }


def test_each_failure_is_refused_before_any_change_with_its_cause(host, registry, auth_registry, tls_registry, tmp_path):
    cases = failure_cases(registry, auth_registry, tls_registry)
    for name, (image, says) in cases.items():
        manifest = write(tmp_path, pod("broken", ("main", image, "IfNotPresent"),
                                       ("fine", "docker.io/library/busybox:latest", "IfNotPresent")), f"{name}.yaml")
        before = ids(host)
        result = podspec(host, "apply", manifest)
        assert result.exit_code == 1, (name, result.output)
        assert f"image {image} (used by broken/main) is not on the host and cannot be pulled: {says}" in result.stderr, \
            (name, result.stderr)
        assert "nothing was changed" in result.stderr
        if name == "no such tag":
            assert "use one of its tags (latest) or push the missing one" in result.stderr
        assert ids(host) == before and pods_on(host) == [], name

    # Several at once: every cause in one error.
    manifest = write(tmp_path, "---\n".join(pod(f"p{i}", ("main", image, "IfNotPresent"))
                                            for i, (image, _) in enumerate(cases.values())), "all.yaml")
    result = podspec(host, "apply", manifest)
    assert result.exit_code == 1
    for image, says in cases.values():
        assert f"{image} (used by" in result.stderr and says in result.stderr
    assert pods_on(host) == []


def test_a_present_image_is_used_with_a_warning_when_the_pull_fails(host, tmp_path):
    dead = f"127.0.0.1:{free_port()}"
    ref = f"{dead}/offline:latest"
    host.podman("tag", "docker.io/library/busybox:latest", ref)
    try:
        manifest = write(tmp_path, pod("offline", ("main", ref, None)))
        result = podspec(host, "apply", manifest)
        assert result.exit_code == 0, result.stderr
        assert f"warning: using the local {ref}: the pull failed: unreachable: cannot reach the registry {dead}" \
            in result.stderr
        assert pods_on(host) == ["offline"]
    finally:
        host.podman("pod", "rm", "-f", "-t", "0", "offline", check=False)
        host.podman("rmi", ref, check=False)


# ------------------------------------------------------------------------------------ progress


def normalized(lines: list[str], registry) -> str:
    text = "\n".join(lines) + "\n"
    text = text.replace(registry.host, "REGISTRY")
    text = re.sub(r"in \d+\.\d+s", "in N.Ns", text)
    text = re.sub(r"after \d+\.\d+s", "after N.Ns", text)
    text = re.sub(r"image [0-9a-f]{12}", "image ID", text)
    return re.sub(r"\d+(\.\d+)? (B|kB|MB)\b", "SIZE", text)


def test_plain_progress_lines_golden_and_none_with_json(host, registry, tmp_path):
    build_variant(host, "localhost/progress:1", "progress", payload=2_000_000)
    push(host, registry, "localhost/progress:1", "progress:1")
    manifest = write(tmp_path, pod("shown", ("a", registry.ref("progress:1"), None),
                                   ("b", registry.ref("library/alpine:latest"), None),
                                   ("c", registry.ref("nosuch:1"), "IfNotPresent")))
    failed = podspec(host, "apply", manifest, "--progress", "plain", "--parallel-pulls", "1")
    assert failed.exit_code == 1
    text = normalized(pull_lines(failed.output), registry)
    if not GOLDEN.exists() or __import__("os").environ.get("PODSPEC_UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert text == GOLDEN.read_text()

    remove_images_of(host, registry)
    manifest = write(tmp_path, pod("shown", ("a", registry.ref("progress:1"), None)), "ok.yaml")
    as_json = podspec(host, "apply", manifest, "-o", "json")
    assert as_json.exit_code == 0, as_json.stderr
    assert json.loads(as_json.output)["result"]["status"] == "applied"
    assert pull_lines(as_json.stderr) == [] and "pull" not in as_json.stderr


def pull_secret(name: str, registry, password: str | None = None) -> str:
    """A kubernetes.io/dockerconfigjson Secret, as `kubectl create secret docker-registry` makes it."""
    import base64

    token = base64.b64encode(f"{registry.user}:{password or registry.password}".encode()).decode()
    config = json.dumps({"auths": {registry.host: {"username": registry.user, "password": password or registry.password,
                                                   "auth": token}}})
    return (f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\ntype: kubernetes.io/dockerconfigjson\n"
            f"data:\n  .dockerconfigjson: {base64.b64encode(config.encode()).decode()}\n")


def test_image_pull_secrets_authenticate_the_pull(host, auth_registry, tmp_path):
    ref = auth_registry.ref("private/busybox:latest")
    spec = pod("withsecret", ("main", ref, "IfNotPresent")) + "  imagePullSecrets:\n    - name: regcred\n"
    wrong = write(tmp_path, spec + "---\n" + pull_secret("regcred", auth_registry, "wrong-password"), "wrong.yaml")
    denied = podspec(host, "apply", wrong)
    assert denied.exit_code == 1
    assert f"unauthorized: {auth_registry.host} refused the credentials from Secret regcred" in denied.stderr
    assert pods_on(host) == []

    # The Secret in another file of the same command, as kubectl apply -f DIR takes it.
    (tmp_path / "dir").mkdir()
    write(tmp_path / "dir", spec, "pod.yaml")
    write(tmp_path / "dir", pull_secret("regcred", auth_registry), "secret.yaml")
    applied = podspec(host, "apply", str(tmp_path / "dir"), "--progress", "plain")
    assert applied.exit_code == 0, applied.stderr
    assert any(line.startswith(f"pulled {ref} ") for line in pull_lines(applied.output))
    assert podspec(host, "apply", str(tmp_path / "dir")).exit_code == 0  # no change, no pull

    history = podspec(host, "history", "-o", "json")
    shown = [host.podman(*args).stdout for args in (
        ("inspect", "withsecret-main"), ("pod", "inspect", "withsecret"), ("secret", "ls"))]
    log = (host.state / "service.log").read_text(errors="replace")
    for text in [*shown, log, history.output, denied.output, denied.stderr, applied.output, applied.stderr]:
        assert auth_registry.password not in text
        assert "wrong-password" not in text


def test_image_pull_secrets_must_name_a_docker_config_secret(host, tmp_path):
    spec = pod("bad", ("main", "docker.io/library/busybox:latest", "IfNotPresent"))
    missing = podspec(host, "apply", write(tmp_path, spec + "  imagePullSecrets:\n    - name: nosuch\n", "a.yaml"))
    assert missing.exit_code == 1
    assert "spec.imagePullSecrets[0].name: Secret nosuch is not defined in the manifests" in missing.stderr
    opaque = ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: plain\nstringData:\n  k: v\n")
    wrong_type = podspec(host, "apply", write(
        tmp_path, spec + "  imagePullSecrets:\n    - name: plain\n---\n" + opaque, "b.yaml"))
    assert wrong_type.exit_code == 1
    assert "Secret plain is of type Opaque, not kubernetes.io/dockerconfigjson" in wrong_type.stderr
    assert pods_on(host) == []


def test_out_of_disk_is_refused_before_any_change(podman_sandbox, registry, tmp_path):
    """A second private Podman whose whole state (storage included) sits on a 48 MB tmpfs made for
    the test; an image larger than what is left cannot be stored. The tmpfs is unmounted after."""
    import subprocess

    from tests.conftest import PodmanSandbox, sandbox

    build_variant(podman_sandbox, "localhost/toobig:1", "too big", payload=60_000_000)
    push(podman_sandbox, registry, "localhost/toobig:1", "toobig:1")
    podman_sandbox.podman("rmi", "localhost/toobig:1")
    small = tmp_path / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=48m", "podspec-test-small", str(small)], check=True)
    state = small / "podman"
    try:
        box = PodmanSandbox(state=state, url=sandbox.up(state))
        ref = registry.ref("toobig:1")
        manifest = write(tmp_path, pod("big", ("main", ref, "IfNotPresent")))
        result = podspec(box, "apply", manifest)
        assert result.exit_code == 1, result.output
        assert (f"image {ref} (used by big/main) is not on the host and cannot be pulled: out of disk: "
                "the host ran out of disk space while storing the image") in result.stderr
        assert "no space left on device" in result.stderr
        assert pods_on(box) == []
    finally:
        sandbox.stop_service(state)
        sandbox.stop_namespace(state)  # Podman 5's namespace holder (nothing on 4.3)
        subprocess.run(["umount", "-l", str(small)], check=False)


def test_a_pull_over_ssh_with_an_auth_file(host, auth_registry, tmp_path):
    """ssh:// (tests/integration/sshd.py in front of the private Podman): the progress streams
    through the forward and the auth file's credentials reach the far side, as with podman-remote."""
    import subprocess
    import sys

    from tests.integration.sshd import start, stop

    server, process = start(tmp_path / "sshd")
    try:
        ref = auth_registry.ref("private/busybox:latest")
        manifest = write(tmp_path, pod("remote", ("main", ref, "IfNotPresent")))
        authfile = auth_registry.auth_file(tmp_path / "auth.json")
        podspec_bin = str(Path(sys.executable).parent / "podspec")
        result = subprocess.run(
            [podspec_bin, "apply", manifest, "--url", server.url(host.state / "podman.sock"), "--identity",
             str(server.client_key), "--project", "itest", "--authfile", str(authfile), "--progress", "plain"],
            capture_output=True, text=True, env=server.env(), timeout=300)
        assert result.returncode == 0, result.stderr
        assert [line.split(" in ")[0] for line in pull_lines(result.stdout)] == [
            f"pull {ref} (imagePullPolicy IfNotPresent) ...", f"pulled {ref}"]
        assert pods_on(host) == ["remote"]
        assert PASSWORD not in result.stdout + result.stderr
    finally:
        stop(process)


# ------------------------------------------------------------------------------- the probe helper


def test_the_probe_helpers_image_is_pulled_like_the_pods_own(host, auth_registry, tmp_path, monkeypatch):
    """httpGet/tcpSocket probes run from a helper container: apply pulls its image when absent (as the
    kubelet pulls its pause image), through the same pull path and credentials, or refuses before any
    change saying how to provide it."""
    helper = auth_registry.ref("tools/busybox:probe")
    push(host, auth_registry, "docker.io/library/busybox:latest", "tools/busybox:probe")
    remove_images_of(host, auth_registry)
    monkeypatch.setenv("PODSPEC_PROBE_IMAGE", helper)
    manifest = write(tmp_path, """\
apiVersion: v1
kind: Pod
metadata: {name: probed}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: web
      image: docker.io/library/httpd:2.4
      readinessProbe: {httpGet: {path: /, port: 80}, periodSeconds: 1}
""")
    refused = podspec(host, "apply", manifest, "--wait", "--timeout", "60")
    assert refused.exit_code == 1
    assert (f"image {helper} (used by the probe helper of probed/web (readiness probe)) is not on the host and cannot "
            f"be pulled: unauthorized: {auth_registry.host} asks for credentials and none were given") in refused.stderr
    assert "set PODSPEC_PROBE_IMAGE to such an image" in refused.stderr and "nothing was changed" in refused.stderr
    assert pods_on(host) == []

    authfile = auth_registry.auth_file(tmp_path / "auth.json")
    applied = podspec(host, "apply", manifest, "--wait", "--timeout", "60", "--authfile", str(authfile))
    assert applied.exit_code == 0, applied.stderr
    assert [line.split(" in ")[0] for line in pull_lines(applied.output)] == [
        f"pull {helper} (imagePullPolicy IfNotPresent) ...", f"pulled {helper}"]
    # the readiness probe passed, made from a helper of the pulled image
    assert "Ready: every container runs and passes its probes." in applied.output
    assert host.podman("image", "exists", helper, check=False).returncode == 0
    again = podspec(host, "apply", manifest)
    assert again.exit_code == 0 and pull_lines(again.output) == [] and "Nothing to do." in again.output
    assert PASSWORD not in refused.stderr + applied.output + applied.stderr
