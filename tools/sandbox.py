#!/usr/bin/env python3
"""A private Podman for podspec's tests and demo, on either of two engines.

- `podman4`: the host's own Podman (Debian 12's 4.3.1).
- `podman5`: Debian 13's Podman 5.4.2, from a Debian 13 tree built once with debootstrap and cached
  outside the repository (`$PODSPEC_PODMAN5_ROOT`, default /var/cache/podspec/trixie-podman). Podman
  runs in a mount namespace of its own whose root is that tree (a plain chroot is not enough, see
  ../shared/podman-here.md): the harness starts a small holder process (`unshare --mount --fork`,
  then `pivot_root` into the tree) and every podman command, the service included, enters it with
  `nsenter` through a wrapper script, `STATE/bin/podman`. The host's network namespace and /tmp are
  shared, so published ports answer on the host and a state directory under /tmp has the same path
  on both sides (one elsewhere is bind-mounted into the namespace at its own path).

The engine is `--engine`, else `$PODSPEC_TEST_ENGINE`, else podman4; a state directory remembers
the engine it was made with and refuses the other.

Everything lives under one state directory: a containers.conf with the settings these build
machines need (runc, cgroupfs, default ulimits, file events; see ../shared/podman-here.md), a
storage.conf whose graphroot/runroot are inside the directory, its own network config directory,
and a `podman system service` on a unix socket in the directory. Nothing of the machine's default
Podman state is read or written.

Offline stand-in images are built from busybox-static and tagged with the real names, only where the
image is absent: nothing is ever pulled from a registry.

Standard library only: the test fixture imports it, and `make` runs it before the package exists.

    python tools/sandbox.py up   [--dir DIR] [--engine E]  # configure, build images, start the service
    python tools/sandbox.py down [--dir DIR]   # stop the service (containers keep their state; on
                                               # podman5 they are stopped and the namespace ends)
    python tools/sandbox.py env  [--dir DIR]   # print `export` lines for a shell
    python tools/sandbox.py purge [--dir DIR]  # remove every pod, container and volume in it
    python tools/sandbox.py podman5-root       # build the cached Debian 13 tree (if not built yet)
"""

from __future__ import annotations

import argparse
import hashlib
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

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DIR = REPO / ".sandbox"
BUSYBOX = Path("/bin/busybox")

ENGINES = ("podman4", "podman5")
ENGINE_VARIABLE = "PODSPEC_TEST_ENGINE"
DEFAULT_ENGINE = "podman4"
# The major version each engine's service must report (tests check it: no silent fallback).
ENGINE_MAJOR = {"podman4": 4, "podman5": 5}

PODMAN5_ROOT_VARIABLE = "PODSPEC_PODMAN5_ROOT"
DEFAULT_PODMAN5_ROOT = Path("/var/cache/podspec/trixie-podman")
# Set (to 1) where nothing may be downloaded (scripts/test.sh, inside its network namespace): a missing
# Podman 5 tree is then an error at once, never a debootstrap attempt.
NO_BUILD_VARIABLE = "PODSPEC_NO_DOWNLOAD"
PODMAN5_SUITE = "trixie"
PODMAN5_PACKAGES = ("podman", "runc", "crun", "ca-certificates", "iproute2", "iptables", "nftables", "netavark",
                    "aardvark-dns", "catatonit", "conmon")
PODMAN5_STAMP = ".podspec-complete"  # written last: a tree without it is incomplete and rebuilt

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


# The registry servers the tests start on loopback (tests/integration/registry.py) speak plain HTTP:
# one entry makes every 127.0.0.1:PORT insecure (a registry entry matches `127.0.0.1` followed by
# `:`), so it holds for ports chosen after the service started. `localhost:PORT` stays secure (the
# tests' TLS registry is reached under that name).
LOOPBACK_INSECURE = "127.0.0.1"


def registries_conf() -> str:
    blocks = "".join(f'\n[[registry]]\nlocation = "{r}"\nblocked = true\n' for r in BLOCKED_REGISTRIES)
    blocks += f'\n[[registry]]\nlocation = "{LOOPBACK_INSECURE}"\ninsecure = true\n'
    return 'unqualified-search-registries = ["docker.io"]\nshort-name-mode = "permissive"\n' + blocks


# Podman 4.3 refuses a --runroot longer than 50 characters ("the specified runroot is longer than 50
# characters"), and the exit command conmon runs when a container ends (`podman container cleanup`)
# passes one: under a longer run root every cleanup fails, so a container is never seen exited and a
# pod start waits Podman's 20 s timeout for each init container it runs. A sandbox whose directory is
# deep (a benchmark's, a rootless user's pytest directory) keeps its run root in a short directory
# under /tmp (shared with the Podman 5 namespace), named after the sandbox; `system reset` removes it.
RUNROOT_LIMIT = 50


def _short(state: Path, path: Path, kind: str, below: str = "") -> Path:
    """`path`, or when `path/below` would pass RUNROOT_LIMIT, /tmp/podspec-KIND-HASH of the sandbox."""
    if len(str(path / below) if below else str(path)) <= RUNROOT_LIMIT:
        return path
    return Path("/tmp") / f"podspec-{kind}-{hashlib.sha256(str(state).encode()).hexdigest()[:12]}"


def run_root(state: Path) -> Path:
    """The run root of the sandbox's root Podman (see RUNROOT_LIMIT)."""
    return _short(state, state / "storage" / "run", "run")


def storage_conf(state: Path) -> str:
    # Rootless Podman ignores graphroot in a storage.conf that is not the user's own and takes
    # rootless_storage_path instead: both name the sandbox's storage.
    return f"""[storage]
driver = "overlay"
graphroot = "{state}/storage/root"
runroot = "{run_root(state)}"
rootless_storage_path = "{state}/storage/root"
"""


def socket_path(state: Path) -> Path:
    return state / "podman.sock"


def runtime_dir(state: Path) -> Path:
    """The sandbox's XDG_RUNTIME_DIR when it runs rootless (see podman_env): rootless Podman's run
    root is its `containers` directory (see RUNROOT_LIMIT)."""
    return _short(state, state / "xdg-run", "xdg", below="containers")


def url(state: Path) -> str:
    return f"unix://{socket_path(state)}"


def engine_choice(value: str | None = None) -> str:
    """The engine asked for: `value` (an option), else $PODSPEC_TEST_ENGINE, else podman4."""
    choice = value or os.environ.get(ENGINE_VARIABLE) or DEFAULT_ENGINE
    if choice not in ENGINES:
        raise SystemExit(f"unknown Podman engine {choice!r} (from {'--engine' if value else '$' + ENGINE_VARIABLE}): "
                         f"choose one of {', '.join(ENGINES)}")
    return choice


def engine_of(state: Path) -> str:
    """The engine a state directory was made with (podman4 for directories older than the choice)."""
    try:
        return (state / "engine").read_text().strip() or DEFAULT_ENGINE
    except FileNotFoundError:
        return DEFAULT_ENGINE


def wrapper_path(state: Path) -> Path:
    return state / "bin" / "podman"


def podman_env(state: Path) -> dict[str, str]:
    """The environment for a local `podman` command (or service) using the private state.

    On podman5 the wrapper's directory comes first on PATH, so that a bare `podman` (run by a test
    or by podspec itself) is the namespace's Podman 5, never the host's."""
    env = dict(os.environ)
    env.pop("CONTAINER_HOST", None)  # otherwise `podman` turns into a remote client
    env.pop("CONTAINER_CONNECTION", None)
    env["CONTAINERS_CONF"] = str(state / "containers.conf")
    env["CONTAINERS_STORAGE_CONF"] = str(state / "storage.conf")
    env["CONTAINERS_REGISTRIES_CONF"] = str(state / "registries.conf")
    if os.geteuid() != 0:
        # Rootless Podman keeps its run root, pause process and locks under XDG_RUNTIME_DIR (it
        # ignores runroot in a storage.conf that is not the user's own): one of the sandbox's own,
        # so that two sandboxes of one user share nothing, nor the user's own Podman.
        env["XDG_RUNTIME_DIR"] = str(runtime_dir(state))
    if engine_of(state) == "podman5":
        env["PATH"] = f"{wrapper_path(state).parent}:{env.get('PATH', '/usr/bin:/bin')}"
        env["PODMAN_IGNORE_CGROUPSV1_WARNING"] = "1"  # these hosts run cgroup v1, which Podman 5 deprecates
    return env


def configure(state: Path, engine: str | None = None) -> None:
    """Write the private configuration; `engine` (when given) must be the one the directory has."""
    state.mkdir(parents=True, exist_ok=True)
    if engine is not None:
        made_with = engine_of(state) if (state / "engine").exists() else None
        if made_with is not None and made_with != engine:
            raise SystemExit(f"{state} holds a {made_with} sandbox; asked for {engine}: use another --dir, "
                             f"or remove this one (python tools/sandbox.py down --dir {state}; rm -rf {state})")
        _write_if_changed(state / "engine", engine + "\n")
    for sub in ("tmp", "networks", "storage/root"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    run_root(state).mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        runtime_dir(state).mkdir(mode=0o700, exist_ok=True)
    _write_if_changed(state / "containers.conf", containers_conf(state))
    _write_if_changed(state / "storage.conf", storage_conf(state))
    _write_if_changed(state / "registries.conf", registries_conf())
    if engine_of(state) == "podman5":
        wrapper_path(state).parent.mkdir(exist_ok=True)
        _write_if_changed(wrapper_path(state), wrapper_script(state))
        wrapper_path(state).chmod(0o755)


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def podman_command(state: Path) -> list[str]:
    """How to run this sandbox's podman CLI: the host's, or the Podman 5 wrapper."""
    return [str(wrapper_path(state))] if engine_of(state) == "podman5" else ["podman"]


def podman_command_direct(state: Path) -> list[str]:
    """As podman_command, without the wrapper's shell on podman5 (for benchmarks: the floor is
    Podman's own cost, plus only nsenter's). Needs the namespace running."""
    if engine_of(state) != "podman5":
        return ["podman"]
    pid = namespace_pid(state)
    if pid is None:
        raise SystemExit(f"the Podman 5 namespace of {state} is not running")
    return ["nsenter", "-t", str(pid), "-m", "/usr/bin/podman"]


def podman(state: Path, *args: str, check: bool = True, capture: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*podman_command(state), *args],
        env=podman_env(state),
        check=check,
        text=True,
        stdout=subprocess.PIPE if capture else None,
        stderr=subprocess.PIPE if capture else None,
    )


# ---------------------------------------------------------------------------- podman5: the tree


def podman5_root() -> Path:
    return Path(os.environ.get(PODMAN5_ROOT_VARIABLE) or DEFAULT_PODMAN5_ROOT).resolve()


def _stamp_text() -> str:
    return f"{PODMAN5_SUITE} {','.join(PODMAN5_PACKAGES)}\n"


def podman5_root_complete(root: Path) -> bool:
    try:
        return (root / PODMAN5_STAMP).read_text() == _stamp_text() and (root / "usr/bin/podman").exists()
    except FileNotFoundError:
        return False


def ensure_podman5_root(root: Path | None = None) -> Path:
    """The cached Debian 13 tree with Podman 5: built once with debootstrap (about a minute), reused
    after; rebuilt when its stamp (written last) is missing or names other packages."""
    import fcntl

    root = root or podman5_root()
    if podman5_root_complete(root):
        return root
    if os.environ.get(NO_BUILD_VARIABLE) == "1":
        # Inside the tests' network namespace: debootstrap would only fail there, after a long wait.
        raise SystemExit(f"the Podman 5 tree is not built in {root}; build it first, with the network: "
                         f"PODSPEC_TEST_ENGINE=podman5 scripts/bootstrap.sh")
    if root == Path("/") or _under(root, Path("/tmp")) or _under(REPO, root):
        raise SystemExit(f"{root} cannot hold the Podman 5 tree: choose a directory outside /tmp and the repository "
                         f"(${PODMAN5_ROOT_VARIABLE})")
    if os.geteuid() != 0:
        raise SystemExit("the Podman 5 engine needs root (debootstrap, mount namespaces)")
    if shutil.which("debootstrap") is None:
        raise SystemExit("debootstrap is missing: run PODSPEC_TEST_ENGINE=podman5 scripts/bootstrap.sh "
                         "(or apt-get install -y debootstrap)")
    root.parent.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f".{root.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another run may be building it right now
        if podman5_root_complete(root):
            return root
        if root.exists():
            if any(_under(Path(m), root) for m in _mount_points()):
                raise SystemExit(f"{root} is incomplete but has mounts under it; unmount them, then run again")
            print(f"sandbox: {root} is incomplete; building it again", file=sys.stderr)
            shutil.rmtree(root)
        print(f"sandbox: building the Podman 5 tree (Debian {PODMAN5_SUITE}) in {root}, once (about a minute)",
              file=sys.stderr)
        log = root.parent / f".{root.name}.debootstrap.log"
        with open(log, "w") as out:
            result = subprocess.run(
                ["debootstrap", "--variant=minbase", f"--include={','.join(PODMAN5_PACKAGES)}", PODMAN5_SUITE, str(root)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        if result.returncode != 0:
            raise SystemExit(f"debootstrap failed ({result.returncode}); see {log}")
        (root / ".oldroot").mkdir(exist_ok=True)
        (root / PODMAN5_STAMP).write_text(_stamp_text())
    return root


def _under(path: Path, parent: Path) -> bool:
    try:
        path.resolve().relative_to(parent.resolve())
        return True
    except ValueError:
        return False


def _mount_points() -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f]


# ----------------------------------------------------------------------- podman5: the namespace

HOLDER_SCRIPT = r"""
set -e
root="$1"; state="$2"; extra="$3"
mount --make-rprivate /
mount --bind "$root" "$root"
for d in proc sys dev tmp; do mount --rbind "/$d" "$root/$d"; done
mount -t tmpfs tmpfs "$root/run"
if [ -n "$extra" ]; then mkdir -p "$root$extra"; mount --rbind "$extra" "$root$extra"; fi
cd "$root"
mkdir -p .oldroot
pivot_root . .oldroot
umount -l /.oldroot
echo $$ > "$state/namespace.pid.new"
mv "$state/namespace.pid.new" "$state/namespace.pid"
exec sleep infinity
"""


def wrapper_script(state: Path) -> str:
    return f"""#!/bin/sh
# Podman 5 of podspec's sandbox {state}: runs /usr/bin/podman in the sandbox's mount namespace
# (root: the cached Debian 13 tree). Made by tools/sandbox.py.
pid=$(cat "{state}/namespace.pid" 2>/dev/null) || {{
  echo "podman5 sandbox: its namespace is not running (python tools/sandbox.py up --dir {state})" >&2; exit 125; }}
export PODMAN_IGNORE_CGROUPSV1_WARNING=1
# The sandbox's own configuration and storage unless the caller chose others.
export CONTAINERS_CONF="${{CONTAINERS_CONF:-{state}/containers.conf}}"
export CONTAINERS_STORAGE_CONF="${{CONTAINERS_STORAGE_CONF:-{state}/storage.conf}}"
export CONTAINERS_REGISTRIES_CONF="${{CONTAINERS_REGISTRIES_CONF:-{state}/registries.conf}}"
# nsenter lands in the namespace's /: keep the working directory where it exists there too.
if [ -d "/proc/$pid/root$PWD" ]; then exec nsenter -t "$pid" -m --wdns="$PWD" /usr/bin/podman "$@"; fi
exec nsenter -t "$pid" -m /usr/bin/podman "$@"
"""


def namespace_pid(state: Path) -> int | None:
    """The holder of the sandbox's Podman 5 namespace, if it runs (its root is the Debian 13 tree)."""
    try:
        pid = int((state / "namespace.pid").read_text())
        with open(f"/proc/{pid}/root/etc/debian_version") as f:
            version = f.read()
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            command = f.read()
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        return None
    return pid if command.startswith(b"sleep") and version.startswith("13") else None


def start_namespace(state: Path, timeout: float = 30.0) -> int:
    """Start the mount namespace Podman 5 runs in, unless it runs; return the holder's PID."""
    pid = namespace_pid(state)
    if pid is not None:
        return pid
    root = ensure_podman5_root()
    (state / "namespace.pid").unlink(missing_ok=True)
    extra = "" if _under(state, Path("/tmp")) else str(state.resolve())
    log = open(state / "namespace.log", "ab")
    proc = subprocess.Popen(
        ["unshare", "--mount", "--fork", "--", "/bin/sh", "-c", HOLDER_SCRIPT, "holder", str(root), str(state), extra],
        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,  # survives the shell that started it (the demo leaves it up)
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = namespace_pid(state)
        if pid is not None:
            return pid
        if proc.poll() is not None:
            raise SystemExit(f"the Podman 5 namespace did not start ({proc.returncode}); see {state / 'namespace.log'}")
        time.sleep(0.02)
    raise SystemExit(f"the Podman 5 namespace did not start within {timeout:.0f}s; see {state / 'namespace.log'}")


def stop_namespace(state: Path) -> None:
    """End the holder (what still runs inside keeps the namespace alive until it ends too)."""
    pid = namespace_pid(state)
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGKILL)
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.02)
    except ProcessLookupError:
        pass
    (state / "namespace.pid").unlink(missing_ok=True)


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
    # Inside the state directory, which the Podman 5 namespace sees at the same path.
    with tempfile.TemporaryDirectory(dir=state / "tmp") as tmp:
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
        [*podman_command(state), "system", "service", "--time=0", url(state)],
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


def stop_pause(state: Path) -> None:
    """Rootless: end the pause process that holds the sandbox's user namespace (its PID file is in
    the sandbox's tmp_dir), which Podman leaves running after its last container."""
    if os.geteuid() == 0:
        return
    try:
        pid = int((state / "tmp" / "pause.pid").read_text())
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            command = f.read()
        if b"catatonit" not in command and b"pause" not in command:
            return
        os.kill(pid, signal.SIGTERM)
    except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
        pass


def down(state: Path) -> None:
    """Stop the service. On podman5 also stop what runs (short timeouts) and end the namespace, so
    that nothing is left running in a namespace no one can enter. Rootless: end the pause process."""
    stop_service(state)
    stop_pause(state)
    if engine_of(state) == "podman5" and namespace_pid(state) is not None:
        podman(state, "pod", "stop", "--all", "-t", "1", check=False)
        podman(state, "stop", "--all", "-t", "1", check=False)
        stop_namespace(state)


def discard(state: Path) -> None:
    """The end of a benchmark's or tool's private Podman: everything in it removed, the service
    stopped, its storage reset and (Podman 5) its namespace ended."""
    purge(state)
    stop_service(state)
    podman(state, "system", "reset", "--force", check=False)
    stop_namespace(state)


def purge(state: Path) -> None:
    """Remove every pod, container, volume, secret (podspec's apply history among them) and
    network of the private Podman (short stop timeouts)."""
    podman(state, "pod", "stop", "--all", "-t", "1", check=False)
    podman(state, "pod", "rm", "--all", "--force", check=False)
    podman(state, "rm", "--all", "--force", "-t", "0", check=False)
    podman(state, "volume", "rm", "--all", "--force", check=False)
    secrets = podman(state, "secret", "ls", "--format", "{{.Name}}", check=False).stdout.split()
    if secrets:
        podman(state, "secret", "rm", *secrets, check=False)
    podman(state, "network", "prune", "--force", check=False)  # project networks (the default one stays)


def up(state: Path, engine: str | None = None) -> str:
    """Configure the sandbox for `engine` (default: the one chosen by the environment), start what
    it needs, build the stand-in images, start the service; return its URL."""
    configure(state, engine_choice(engine))
    if engine_of(state) == "podman5":
        start_namespace(state)
    built = build_images(state)
    for name in built:
        print(f"sandbox: built stand-in image {name}", file=sys.stderr)
    return start_service(state)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("up", "down", "env", "purge", "images", "podman5-root"))
    parser.add_argument("--dir", type=Path, default=None,
                        help=f"state directory (default {DEFAULT_DIR}, or {DEFAULT_DIR}-podman5 for podman5)")
    parser.add_argument("--engine", choices=ENGINES, default=None,
                        help=f"podman4 (the host's) or podman5 (Debian 13's); default ${ENGINE_VARIABLE}, else podman4")
    args = parser.parse_args(argv)
    if args.action == "podman5-root":
        print(ensure_podman5_root())
        return 0
    state = (args.dir or default_dir(engine_choice(args.engine))).resolve()
    if args.action == "up":
        print(up(state, args.engine))
    elif args.action == "down":
        down(state)
    elif args.action == "images":
        configure(state, engine_choice(args.engine))
        if engine_of(state) == "podman5":
            start_namespace(state)
        build_images(state)
    elif args.action == "purge":
        configure(state)
        if engine_of(state) == "podman5":
            start_namespace(state)
        purge(state)
    elif args.action == "env":
        env = podman_env(state)
        print(f"export CONTAINERS_CONF={env['CONTAINERS_CONF']}")
        print(f"export CONTAINERS_STORAGE_CONF={env['CONTAINERS_STORAGE_CONF']}")
        print(f"export CONTAINERS_REGISTRIES_CONF={env['CONTAINERS_REGISTRIES_CONF']}")
        print(f"export CONTAINER_HOST={url(state)}")
        if os.geteuid() != 0:  # rootless: the sandbox's run root and pause process are under its own
            print(f"export XDG_RUNTIME_DIR={env['XDG_RUNTIME_DIR']}")
        if engine_of(state) == "podman5":
            print(f"export PATH={wrapper_path(state).parent}:$PATH PODMAN_IGNORE_CGROUPSV1_WARNING=1")
    return 0


def default_dir(engine: str) -> Path:
    return DEFAULT_DIR if engine == "podman4" else DEFAULT_DIR.with_name(f"{DEFAULT_DIR.name}-{engine}")


if __name__ == "__main__":
    sys.exit(main())
