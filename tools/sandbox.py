#!/usr/bin/env python3
"""A private Podman for podspec's tests and demo.

Everything lives under one state directory: a containers.conf with the settings these build
machines need (runc, cgroupfs, default ulimits, file events; see ../shared/podman-here.md), a
storage.conf whose graphroot/runroot are inside the directory, its own network config directory,
and a `podman system service` on a unix socket in the directory. Nothing of the machine's default
Podman state is read or written.

Offline stand-in images are built from busybox-static and tagged with the real names, only where the
image is absent: nothing is ever pulled from a registry.

Standard library only: the test fixture imports it, and `make` runs it before the package exists.

    python tools/sandbox.py up   [--dir DIR]   # configure, build images, start the service
    python tools/sandbox.py down [--dir DIR]   # stop the service (containers keep their state)
    python tools/sandbox.py env  [--dir DIR]   # print `export` lines for a shell
    python tools/sandbox.py purge [--dir DIR]  # remove every pod, container and volume in it
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DIR = Path(__file__).resolve().parent.parent / ".sandbox"
BUSYBOX = Path("/bin/busybox")

IT_WORKS = "<html><body><h1>It works!</h1></body></html>\n"


@dataclass(frozen=True)
class StandIn:
    name: str
    cmd: tuple[str, ...]
    files: tuple[tuple[str, str], ...] = ()


STAND_INS = (
    StandIn(
        name="docker.io/library/httpd:2.4",
        cmd=("httpd", "-f", "-p", "80", "-h", "/usr/local/apache2/htdocs"),
        files=(("usr/local/apache2/htdocs/index.html", IT_WORKS),),
    ),
    StandIn(name="docker.io/library/alpine:latest", cmd=("/bin/sh",)),
    StandIn(name="docker.io/library/busybox:latest", cmd=("sh",)),
)


def containers_conf(state: Path) -> str:
    return f"""# podspec's private Podman: test and demo configuration, never written to /etc.
[containers]
# The hard limits on these machines are below Podman's defaults (setrlimit fails otherwise).
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
# crun fails here with "cgroups in hybrid mode not supported".
runtime = "runc"
cgroup_manager = "cgroupfs"
# journald is not running.
events_logger = "file"
tmp_dir = "{state}/tmp"

[network]
network_config_dir = "{state}/networks"
"""


# Nothing is ever pulled from a registry here: every well-known registry is blocked, so that a
# pull fails at once instead of reaching out (or hanging on DNS) on an offline machine.
BLOCKED_REGISTRIES = ("docker.io", "quay.io", "ghcr.io", "gcr.io", "registry.k8s.io", "k8s.gcr.io",
                      "registry.fedoraproject.org", "registry.access.redhat.com", "registry.redhat.io")


def registries_conf() -> str:
    blocks = "".join(f'\n[[registry]]\nlocation = "{r}"\nblocked = true\n' for r in BLOCKED_REGISTRIES)
    return 'unqualified-search-registries = ["docker.io"]\nshort-name-mode = "permissive"\n' + blocks


def storage_conf(state: Path) -> str:
    return f"""[storage]
driver = "overlay"
graphroot = "{state}/storage/root"
runroot = "{state}/storage/run"
"""


def socket_path(state: Path) -> Path:
    return state / "podman.sock"


def url(state: Path) -> str:
    return f"unix://{socket_path(state)}"


def podman_env(state: Path) -> dict[str, str]:
    """The environment for a local `podman` command (or service) using the private state."""
    env = dict(os.environ)
    env.pop("CONTAINER_HOST", None)  # otherwise `podman` turns into a remote client
    env.pop("CONTAINER_CONNECTION", None)
    env["CONTAINERS_CONF"] = str(state / "containers.conf")
    env["CONTAINERS_STORAGE_CONF"] = str(state / "storage.conf")
    env["CONTAINERS_REGISTRIES_CONF"] = str(state / "registries.conf")
    return env


def configure(state: Path) -> None:
    state.mkdir(parents=True, exist_ok=True)
    for sub in ("tmp", "networks", "storage/root", "storage/run"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    _write_if_changed(state / "containers.conf", containers_conf(state))
    _write_if_changed(state / "storage.conf", storage_conf(state))
    _write_if_changed(state / "registries.conf", registries_conf())


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def podman(state: Path, *args: str, check: bool = True, capture: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["podman", *args],
        env=podman_env(state),
        check=check,
        text=True,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.PIPE if capture else None,
    )


# ---------------------------------------------------------------------------------------- images


def build_images(state: Path) -> list[str]:
    """Build the stand-ins that are absent; return the names built."""
    built = []
    for image in STAND_INS:
        if podman(state, "image", "exists", image.name, check=False).returncode == 0:
            continue
        _import_stand_in(state, image)
        built.append(image.name)
    return built


def _import_stand_in(state: Path, image: StandIn) -> None:
    if not BUSYBOX.exists():
        raise SystemExit(f"{BUSYBOX} is missing: install busybox-static (apt-get install -y busybox-static)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "rootfs"
        (root / "bin").mkdir(parents=True)
        for d in ("tmp", "etc", "root", "proc", "sys", "dev", "run", "var/www"):
            (root / d).mkdir(parents=True, exist_ok=True)
        shutil.copy2(BUSYBOX, root / "bin" / "busybox")
        applets = subprocess.run([str(BUSYBOX), "--list"], check=True, text=True, capture_output=True).stdout.split()
        for applet in applets:
            if applet != "busybox":
                (root / "bin" / applet).symlink_to("busybox")
        (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
        (root / "etc" / "group").write_text("root:x:0:\nnogroup:x:65534:\n")
        for rel, text in image.files:
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        tar_path = Path(tmp) / "rootfs.tar"
        with tarfile.open(tar_path, "w") as tar:
            for child in sorted(root.iterdir()):
                tar.add(child, arcname=child.name)
        podman(
            state,
            "import",
            "--change", f"CMD {json.dumps(list(image.cmd))}",
            "--change", "ENV PATH=/bin",
            str(tar_path),
            image.name,
        )


# --------------------------------------------------------------------------------------- service


def service_alive(state: Path) -> bool:
    pid = _service_pid(state)
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return socket_path(state).exists()


def _service_pid(state: Path) -> int | None:
    try:
        return int((state / "service.pid").read_text())
    except (FileNotFoundError, ValueError):
        return None


def start_service(state: Path, timeout: float = 30.0) -> str:
    """Start the private `podman system service` unless it already runs; return its URL."""
    configure(state)
    if service_alive(state):
        return url(state)
    sock = socket_path(state)
    if sock.exists():
        sock.unlink()
    log = open(state / "service.log", "ab")
    proc = subprocess.Popen(
        ["podman", "system", "service", "--time=0", url(state)],
        env=podman_env(state),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # survives the shell that started it (the demo leaves it up)
    )
    (state / "service.pid").write_text(str(proc.pid))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sock.exists() and _ping(state):
            return url(state)
        if proc.poll() is not None:
            raise SystemExit(f"podman system service exited ({proc.returncode}); see {state / 'service.log'}")
        time.sleep(0.05)
    raise SystemExit(f"podman system service did not answer on {sock} within {timeout:.0f}s")


def _ping(state: Path) -> bool:
    import socket

    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect(str(socket_path(state)))
            s.sendall(b"GET /_ping HTTP/1.0\r\nHost: d\r\n\r\n")
            return b"200 OK" in s.recv(200)
    except OSError:
        return False


def stop_service(state: Path) -> None:
    pid = _service_pid(state)
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    (state / "service.pid").unlink(missing_ok=True)
    socket_path(state).unlink(missing_ok=True)


def purge(state: Path) -> None:
    """Remove every pod, container and volume of the private Podman (short stop timeouts)."""
    podman(state, "pod", "stop", "--all", "-t", "1", check=False)
    podman(state, "pod", "rm", "--all", "--force", check=False)
    podman(state, "rm", "--all", "--force", "-t", "0", check=False)
    podman(state, "volume", "rm", "--all", "--force", check=False)


def up(state: Path) -> str:
    configure(state)
    built = build_images(state)
    for name in built:
        print(f"sandbox: built stand-in image {name}", file=sys.stderr)
    return start_service(state)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("up", "down", "env", "purge", "images"))
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    args = parser.parse_args(argv)
    state = args.dir.resolve()
    if args.action == "up":
        print(up(state))
    elif args.action == "down":
        stop_service(state)
    elif args.action == "images":
        configure(state)
        build_images(state)
    elif args.action == "purge":
        configure(state)
        purge(state)
    elif args.action == "env":
        env = podman_env(state)
        print(f"export CONTAINERS_CONF={env['CONTAINERS_CONF']}")
        print(f"export CONTAINERS_STORAGE_CONF={env['CONTAINERS_STORAGE_CONF']}")
        print(f"export CONTAINERS_REGISTRIES_CONF={env['CONTAINERS_REGISTRIES_CONF']}")
        print(f"export CONTAINER_HOST={url(state)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
