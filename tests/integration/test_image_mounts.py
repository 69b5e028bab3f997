"""`io.podman.annotations.kube.image.volumes.mount/<container>` on a real Podman, in the shape of
Podman's own system test (700-play.bats, "podman play with image volume"): two images with VOLUME
lines, the first local, the second only in a registry (pulled by apply); the annotated container
sees each VOLUME path's files read-only, the second image winning the path both declare; the
other container sees none. One applied state is checked several ways (diff, export's round trip),
then a changed list (applied over ssh://) recreates that container only. On Podman 4.3 the
annotation is refused before any change, naming the version needed.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from podspec.engine.podman import connect
from podspec.reconcile.podman_rules import version_tuple
from tests.integration.manifests import ids, podspec, write
from tests.integration.registry import push, start
from tests.integration.sshd import sshd  # noqa: F401 - the fixture

PROJECT = "automount"
ONE = "localhost/automount-one:1"
KEY = "io.podman.annotations.kube.image.volumes.mount"


def pod(images: str) -> str:
    return f"""\
apiVersion: v1
kind: Pod
metadata:
  name: mnt
  annotations:
    {KEY}/app: "{images}"
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: app
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: [sleep, "100000"]
    - name: side
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: [sleep, "100000"]
"""


def build(podman, name: str, files: dict[str, str], volumes: tuple[str, ...]) -> None:
    """A local image `name`: busybox plus `files`, with a VOLUME line per path (no RUN: nothing runs)."""
    work = podman.state / "tmp" / f"automount-{name.rsplit('/', 1)[-1].replace(':', '-')}"
    for path, text in files.items():
        (work / "root" / path.lstrip("/")).parent.mkdir(parents=True, exist_ok=True)
        (work / "root" / path.lstrip("/")).write_text(text)
    lines = ["FROM docker.io/library/busybox:latest", "COPY root/ /"] + [f"VOLUME {v}" for v in volumes]
    (work / "Containerfile").write_text("\n".join(lines) + "\n")
    podman.podman("build", "-q", "--pull=never", "-t", name, "-f", str(work / "Containerfile"), str(work))
    shutil.rmtree(work, ignore_errors=True)


def version(podman) -> str:
    with connect(podman.url) as engine:
        return engine.version()


@pytest.fixture(scope="module")
def mounted(podman_sandbox, tmp_path_factory):
    """Podman 5.1+: ONE local, TWO in a registry only; the pod applied once. Yields (manifest, TWO)."""
    podman = podman_sandbox
    if version_tuple(version(podman)) < (5, 1):
        pytest.skip("the annotation needs Podman 5.1 (test_refused_before_any_change_on_older_podman)")
    tmp = tmp_path_factory.mktemp("automount")
    server = start(tmp / "registry", "open")
    try:
        build(podman, ONE, {"/test1/a": "", "/test1/b": "", "/test1/c": "", "/test_same/hello_world": "I am from test1 image\n"},
              ("/test1", "/test_same"))
        build(podman, "localhost/automount-two:1", {"/test2/asdf": "", "/test2/ejgre": "",
                                                    "/test_same/hello_world": "I am from test2 image\n"},
              ("/test2", "/test_same"))
        push(podman, server, "localhost/automount-two:1", "automount-two:1")
        podman.podman("rmi", "localhost/automount-two:1")
        two = server.ref("automount-two:1")
        manifest = write(tmp, pod(f"{ONE};{two}"))
        applied = podspec(podman, "apply", manifest, project=PROJECT)
        assert applied.exit_code == 0, applied.output + applied.stderr
        assert f"{two}" in applied.output + applied.stderr, "the absent image is pulled (and said so)"
        yield manifest, two, server
    finally:
        server.stop()
        podman.purge()
        podman.podman("rmi", "--force", ONE, check=False)
        podman.podman("rmi", "--force", f"{server.host}/automount-two:1", check=False)


def run(podman, container: str, *cmd: str):
    return podman.podman("exec", container, *cmd, check=False)


def test_each_volume_path_is_mounted_read_only_into_that_container_only(podman_sandbox, mounted, tmp_path):
    podman = podman_sandbox
    manifest, two, _ = mounted
    assert run(podman, "mnt-app", "ls", "/test1").stdout.split() == ["a", "b", "c"]
    assert run(podman, "mnt-app", "ls", "/test2").stdout.split() == ["asdf", "ejgre"]
    assert run(podman, "mnt-app", "cat", "/test_same/hello_world").stdout == "I am from test2 image\n", "the later image wins"
    written = run(podman, "mnt-app", "touch", "/test1/readonly")
    assert written.returncode != 0 and "Read-only file system" in written.stderr
    assert run(podman, "mnt-side", "ls", "/").stdout.split().count("test1") == 0
    assert run(podman, "mnt-side", "ls", "/test2").returncode != 0
    assert podspec(podman, "diff", manifest, project=PROJECT).exit_code == 0

    # export writes the annotation back (no image volume of its own), and the round trip changes nothing
    from typer.testing import CliRunner

    from podspec.cli import app

    exported = CliRunner().invoke(app, ["export", "mnt", "--url", podman.url])
    assert exported.exit_code == 0, exported.stderr
    assert f"{KEY}/app: {ONE};{two}" in exported.stdout and "reference:" not in exported.stdout, exported.stdout
    assert podspec(podman, "diff", write(tmp_path, exported.stdout, "exported.yaml"), project=PROJECT).exit_code == 0


def test_a_changed_list_recreates_only_that_container_over_ssh(podman_sandbox, mounted, sshd, tmp_path):  # noqa: F811
    from tests.integration.test_ssh import over_ssh
    from tests.integration.test_ssh import run as ssh_run

    podman = podman_sandbox
    changed, two, _ = mounted
    before = ids(podman)
    env, remote = sshd.env(PODSPEC_PROJECT=PROJECT), over_ssh(sshd, podman)
    Path(changed).write_text(pod(two))  # the same file (podspec records where a pod was applied from)
    dry = ssh_run(env, "diff", changed, *remote)
    assert dry.returncode == 2 and "mnt-app" in dry.stdout and "mnt-side" not in dry.stdout, dry.stdout
    assert "imageMounts" in dry.stdout or KEY in dry.stdout, "the plan says why"
    applied = ssh_run(env, "apply", changed, *remote)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    after = ids(podman)
    assert after["mnt-side"] == before["mnt-side"] and after["mnt-app"] != before["mnt-app"]
    assert run(podman, "mnt-app", "ls", "/test1").returncode != 0
    assert run(podman, "mnt-app", "ls", "/test2").stdout.split() == ["asdf", "ejgre"]
    assert ssh_run(env, "diff", changed, *remote).returncode == 0


def test_refused_before_any_change_on_older_podman(podman, tmp_path):
    running = version(podman)
    if version_tuple(running) >= (5, 1):
        pytest.skip("Podman 5.1+ mounts them (the tests above)")
    images = podman.podman("images", "-q").stdout
    result = podspec(podman, "apply", write(tmp_path, pod(f"{ONE};127.0.0.1:9/absent:1")), project=PROJECT)
    assert result.exit_code == 1
    assert (f"mnt/app: annotation {KEY}/app ({ONE}, 127.0.0.1:9/absent:1): mounting an image's VOLUME paths (an "
            f"image volume with a subPath) needs Podman 5.1 or newer (this host runs {running}); copy those files into "
            "a named volume") in result.stderr, result.stderr
    assert "nothing was changed" in result.stderr
    assert podman.podman("ps", "-aq").stdout.strip() == "" and podman.podman("pod", "ps", "-q").stdout.strip() == ""
    assert podman.podman("network", "exists", f"podspec-{PROJECT}", check=False).returncode == 1
    assert podman.podman("images", "-q").stdout == images, "nothing pulled"
