"""Where podspec keeps files on this machine: system directories for root, the user's own otherwise.

    runtime_dir(env, uid)  what lives as long as the boot: locks, private services' sockets
                           root: /run/podspec; a user: $XDG_RUNTIME_DIR/podspec, else
                           /run/user/UID/podspec when that directory is the user's, else
                           /tmp/podspec-UID (made 0700, and refused when someone else owns it)
    state_dir(env, uid)    what must survive a reboot (history kept on disk, the sync agent's state)
                           root: /var/lib/podspec; a user: $XDG_STATE_HOME/podspec, else
                           ~/.local/state/podspec
    lock_dir(env, uid)     runtime_dir/locks

Each user's directories are their own, so two users never share, or wait on, each other's locks
(their Podmans are separate too: rootless Podman keeps each user's containers apart). The caller
passes the environment and the effective UID (the CLI reads them; nothing here reads os.environ);
`is_root` is uid 0. Plain functions over plain values, for the apply lock, the history and the
sync agent alike.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from podspec.errors import PodspecError

SYSTEM_RUNTIME = Path("/run/podspec")
SYSTEM_STATE = Path("/var/lib/podspec")


def is_root(uid: int) -> bool:
    return uid == 0


def runtime_dir(env: Mapping[str, str], uid: int) -> Path:
    """Per-boot files (locks, sockets): see the module's docstring for the order."""
    if is_root(uid):
        return SYSTEM_RUNTIME
    if env.get("XDG_RUNTIME_DIR"):
        return Path(env["XDG_RUNTIME_DIR"]) / "podspec"
    login = Path(f"/run/user/{uid}")
    try:
        if login.stat().st_uid == uid:
            return login / "podspec"
    except OSError:
        pass
    return Path(env.get("TMPDIR") or "/tmp") / f"podspec-{uid}"


def state_dir(env: Mapping[str, str], uid: int) -> Path:
    """Files that survive a reboot: /var/lib/podspec for root, else XDG_STATE_HOME's podspec."""
    return SYSTEM_STATE if is_root(uid) else user_state_dir(env)


def user_state_dir(env: Mapping[str, str]) -> Path:
    """A user's: $XDG_STATE_HOME/podspec, else ~/.local/state/podspec."""
    base = env.get("XDG_STATE_HOME") or str(Path(env.get("HOME") or os.path.expanduser("~")) / ".local" / "state")
    return Path(base) / "podspec"


def lock_dir(env: Mapping[str, str], uid: int) -> Path:
    return runtime_dir(env, uid) / "locks"


def private_dir(path: Path, uid: int) -> Path:
    """Make `path` (and its parents) for `uid`; a user's directory is 0700 and must be theirs.

    A directory that another user made first (under a shared /tmp, say) is refused rather than
    used: a lock or a socket there would be theirs to read, replace or block."""
    path.mkdir(parents=True, exist_ok=True, mode=0o755 if is_root(uid) else 0o700)
    if is_root(uid):
        return path
    info = path.stat()
    if info.st_uid != uid or stat.S_IMODE(info.st_mode) & 0o022:
        raise PodspecError(
            f"{path} belongs to someone else or others may write to it (owner uid {info.st_uid}, "
            f"mode {stat.S_IMODE(info.st_mode):o}); podspec keeps a user's locks only where no one else can",
            "set XDG_RUNTIME_DIR to a directory of your own (/run/user/$(id -u), which a login session or "
            "`loginctl enable-linger` makes), or remove that directory",
        )
    return path
