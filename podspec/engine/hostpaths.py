"""hostPath volumes of type DirectoryOrCreate and FileOrCreate, made on the Podman host when missing,
as `podman kube play` makes them (pkg/specgen/generate/kube/volume.go: os.MkdirAll with 0755 for a
directory, its missing parents too; an empty file opened O_CREATE with 0644, whose directory must
exist), through the Podman API only, so that it works on every transport (unix://, ssh://) and
rootless (as the user Podman runs as: where that user may write).

One plan step is one short-lived helper container (create, start, wait, remove): busybox's chroot
into the host's root, bind-mounted (rbind) at /host, runs the host's own `sh` there, so that every
symbolic link on the way resolves as on the host (the security policy checked where those lead
before any change). It tests the path first and leaves anything that exists as it is (a dangling
link too: creating through it would write where the link points); it writes nothing else. The
helper has no network and is removed at once.
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable

from podspec import labels as L
from podspec.errors import EngineError, Refusal
from podspec.model import HOST_PATH_HELPER_IMAGE as HELPER_IMAGE

ROLE_HOST_PATH = "host-path"  # the helper's io.podspec.role label
HOST_ROOT = "/host"
WAIT_TIMEOUT = 60.0

Call = Callable[..., Any]


# The shell run on the host (chrooted): kube play's semantics, nothing else. The path is "$1" and its
# directory "$2", arguments of the shell, never part of the script's text: a path is one word
# whatever it holds (`/srv/data/$(cmd)` is a file name, not a command run as root on the host).
_TEST = 'umask 022; if [ -e "$1" ] || [ -L "$1" ]; then '
SCRIPTS = {
    "DirectoryOrCreate": _TEST + '[ -d "$1" ] || { printf "%s exists and is not a directory\\n" "$1" >&2; exit 3; }; exit 0; fi; '
                         'mkdir -p -- "$1"',
    "FileOrCreate": _TEST + '[ ! -d "$1" ] || { printf "%s exists and is a directory\\n" "$1" >&2; exit 3; }; exit 0; fi; '
                    '[ -d "$2" ] || { printf "the directory of %s does not exist (FileOrCreate makes the file only)\\n" '
                    '"$1" >&2; exit 4; }; : > "$1"',
}


def command(path: str, kind: str) -> list[str]:
    """The helper's shell, as run inside the host's root: the script of `kind` and the path as arguments."""
    script = SCRIPTS["DirectoryOrCreate" if kind == "DirectoryOrCreate" else "FileOrCreate"]
    return ["/bin/sh", "-c", script, "sh", path, path.rsplit("/", 1)[0] or "/"]


def helper_name(path: str) -> str:
    return "podspec-hostpath-" + hashlib.sha256(path.encode()).hexdigest()[:12]


def create(call: Call, path: str, kind: str, image: str = HELPER_IMAGE) -> None:
    """Make `path` on the Podman host when missing (see the module's text); raises EngineError with
    what the helper said when it could not."""
    name = helper_name(path)
    what = f"create host path {path}"
    body = {
        "name": name, "image": image,
        "command": ["chroot", HOST_ROOT, *command(path, kind)],
        "mounts": [{"destination": HOST_ROOT, "source": "/", "type": "bind", "options": ["rbind"]}],
        "netns": {"nsmode": "none"}, "user": "0:0",
        "labels": {L.MANAGED_BY: L.MANAGER, L.ROLE: ROLE_HOST_PATH},
    }
    try:
        call("post", "/containers/create", f"{what}: create its helper container {name} (image {image})", body=body)
    except EngineError as error:
        if error.reason is Refusal.EXISTS:  # left by a run that was killed: made again (only if it is one)
            not_ours = _not_a_helper(call, name, ROLE_HOST_PATH)
            if not_ours:
                raise EngineError(f"cannot {what}: {not_ours}",
                                  f"rename that container, or remove it if it is no one's; or create {path} on the "
                                  "Podman host by hand and use type Directory / File") from None
            _remove(call, name)
            call("post", "/containers/create", f"{what}: create its helper container {name}", body=body)
        else:
            raise EngineError(error.message, f"the helper that makes a hostPath runs {image} (busybox's chroot); "
                              "load it on the host, or create the path by hand and use type Directory / File") from None
    try:
        call("post", f"/containers/{name}/start", f"{what}: start its helper")
        answer = call("post", f"/containers/{name}/wait", f"{what}: wait for its helper",
                      params={"condition": "stopped"}, timeout=WAIT_TIMEOUT)
        code = int(answer if isinstance(answer, int) else (answer or {}).get("StatusCode", 0))
        if code != 0:
            said = call("get", f"/containers/{name}/logs", f"{what}: read its helper's output",
                        params={"stdout": "true", "stderr": "true"}, raw=True)
            raise EngineError(f"could not {what}: {_text(said) or f'the helper exited {code}'}",
                              "create it on the Podman host by hand (with the mode you want), or fix what stands in "
                              "the way")
    finally:
        _remove(call, name)


def not_a_helper(found: Any, name: str, role: str) -> str:
    """Why the container `name` (its inspect answer, `found`) is not a helper of `role` that podspec
    made ("" when it is one): podspec never removes nor uses a container it did not make for that,
    whatever its name (a pod `podspec` with a container `hostpath-...` has a helper's name). Both
    helpers ask it: this one and the probe runner's (engine/probes.py)."""
    labels = ((found if isinstance(found, dict) else {}).get("Config") or {}).get("Labels") or {}
    if labels.get(L.MANAGED_BY) == L.MANAGER and labels.get(L.ROLE) == role:
        return ""
    return f"a container {name}, which podspec's helper did not make, holds the helper's name; podspec leaves it alone"


def _not_a_helper(call: Call, name: str, role: str) -> str:
    try:
        found = call("get", f"/containers/{name}/json", f"inspect container {name}")
    except EngineError:
        return ""  # gone meanwhile
    return not_a_helper(found, name, role)


def _remove(call: Call, name: str) -> None:
    try:
        call("delete", f"/containers/{name}", f"remove host path helper {name}", params={"force": "true", "timeout": 0})
    except EngineError:
        pass


def _text(raw: Any) -> str:
    """The helper's output: the log stream's frames (8-byte headers) stripped, one line."""
    data = raw if isinstance(raw, bytes) else str(raw or "").encode()
    out, i = b"", 0
    while i + 8 <= len(data) and data[i] in (0, 1, 2) and data[i + 1:i + 4] == b"\0\0\0":
        size = int.from_bytes(data[i + 4:i + 8], "big")
        out += data[i + 8:i + 8 + size]
        i += 8 + size
    text = (out if i else data).decode(errors="replace")
    return " ".join(text.split())
