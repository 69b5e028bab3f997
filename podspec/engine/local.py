"""Facts about the machine a local Podman service (a unix socket) runs on, read from here: the
unprivileged port start and whether the service's user can read a host path. A remote service's
machine cannot be read this way; callers then get None ("unknown")."""

from __future__ import annotations

import grp
import os
import pwd
import stat
from collections.abc import Sequence
from pathlib import Path

PORT_START = Path("/proc/sys/net/ipv4/ip_unprivileged_port_start")


def unprivileged_port_start() -> int | None:
    """net.ipv4.ip_unprivileged_port_start of this network namespace (where rootless Podman's
    port forwarder binds), or None when it cannot be read."""
    try:
        return int(PORT_START.read_text().strip())
    except (OSError, ValueError):
        return None


def peer_uid(path: str) -> int | None:
    """The UID of the process serving a unix socket (SO_PEERCRED), without a request; None when
    it does not answer."""
    import socket
    import struct

    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect(path)
            _pid, uid, _gid = struct.unpack("3i", s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
            return uid
    except OSError:
        return None


def readable(path: str, uid: int) -> bool | None:
    """Whether `uid` can read `path` (and search a directory, and every directory above it): by
    asking the kernel when `uid` is this process's, else from the modes, owners and `uid`'s groups
    (ACLs are not read). None when the path does not exist: Podman reports that itself."""
    if not os.path.lexists(path):
        return None
    if uid == 0:
        return True
    if uid == os.geteuid():
        wanted = os.R_OK | (os.X_OK if os.path.isdir(path) else 0)
        return os.access(path, wanted)
    groups = _groups(uid)
    current = Path(path)
    for parent in reversed(current.parents):
        if not _may(parent, uid, groups, stat.S_IXUSR):
            return False
    wanted = stat.S_IRUSR | (stat.S_IXUSR if current.is_dir() else 0)
    return _may(current, uid, groups, wanted)


def _groups(uid: int) -> set[int]:
    try:
        entry = pwd.getpwuid(uid)
    except KeyError:
        return set()
    return set(os.getgrouplist(entry.pw_name, entry.pw_gid)) | {g.gr_gid for g in grp.getgrall() if entry.pw_name in g.gr_mem}


def _may(path: Path, uid: int, groups: set[int], user_bits: int) -> bool:
    """`user_bits` (S_IRUSR, S_IXUSR) granted to `uid` by the owner, group or other bits."""
    try:
        info = path.stat()
    except OSError:
        return False
    mode = info.st_mode
    if info.st_uid == uid:
        return mode & user_bits == user_bits
    if info.st_gid in groups:
        return mode & (user_bits >> 3) == user_bits >> 3
    return mode & (user_bits >> 6) == user_bits >> 6


def ports_in_use(ports: Sequence[tuple[str, int, str]]) -> tuple[tuple[str, int, str], ...]:
    """The (ip, port, protocol) among `ports` that a process of this machine holds: each is bound
    for a moment (ip "" = every address), and a refusal other than "in use" counts as free."""
    import errno
    import socket

    busy = []
    for ip, port, protocol in ports:
        kind = socket.SOCK_DGRAM if protocol == "udp" else socket.SOCK_STREAM
        if protocol not in ("tcp", "udp"):
            continue
        family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        try:
            with socket.socket(family, kind) as s:
                # As Podman (Go) binds: a port whose only use is closed connections in TIME_WAIT
                # (a page just served through rootless Podman's port forwarder) is free; a
                # listener still holds it.
                if kind == socket.SOCK_STREAM:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((ip or ("::" if family == socket.AF_INET6 else "0.0.0.0"), port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                busy.append((ip, port, protocol))
    return tuple(busy)
