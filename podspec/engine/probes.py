"""Running a probe on Podman: `exec` inside the container, `httpGet` and `tcpSocket` from outside it.

An `exec` probe runs its command in the container (Podman's exec endpoint), as the kubelet does.
An `httpGet` or `tcpSocket` probe is made from outside the container, never by a tool of its image
(httpd, nginx, postgres and redis have no curl): from a small helper container that shares the
pod's network namespace (the path of the infra container's namespace, `SandboxKey`), made from the
probe image (busybox: `wget` and `nc`). The helper talks to the pod's ports on 127.0.0.1 as the
pod's own containers would, so it works as root and rootless (where the pod's address is not
reachable from the host), and over ssh:// (everything goes through the REST API; nothing connects
from the client to the pod). One helper serves every probe of a pod; it sleeps and each probe is an
exec in it. It removes itself after `HELPER_LIFETIME` seconds (so one left by a killed runner goes
away), and is made again when needed: when the pod was started again (a new namespace), when it
ended. Its name is `podspec-probe-<infra id, 12>`; its labels say podspec made it, for which pod.

Calls: a probe is 3 calls (exec create, start, inspect); a helper 3 more (inspect infra, create, start).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from podspec import labels as L
from podspec.engine.hostpaths import not_a_helper
from podspec.errors import EngineError, PodmanUnavailable, Refusal
from podspec.model import Probe, ProbeHandler
from podspec.observed import ProbeResult
from podspec.references import DEFAULT_PROBE_IMAGE

HELPER_PREFIX = "podspec-probe-"
HELPER_LIFETIME = 900  # seconds a helper lives (it removes itself); remade on demand
ROLE_PROBE = "probe"
PROBE_OF = L.PREFIX + "probe-of"  # on a helper: the pod it probes
OUTPUT_LIMIT = 200
EXEC_SLACK = 1  # seconds: Podman's own time to start an exec, beyond the probe's timeoutSeconds
LOOKUP_TIMEOUT = 3  # seconds a name look-up (apply --wait, Services) may take


@dataclass(frozen=True)
class ProbeTarget:
    """Which container a probe is of: its name, its pod, and the pod's infra container's ID (whose
    network namespace the helper joins)."""

    container: str
    pod: str
    infra_id: str


def helper_name(infra_id: str) -> str:
    return HELPER_PREFIX + infra_id[:12]


def outside_command(probe: Probe, timeout: int) -> list[str]:
    """The helper's command for an httpGet or tcpSocket probe (busybox tools; `timeout` bounds it)."""
    host = probe.host or "127.0.0.1"
    if probe.handler is ProbeHandler.HTTP_GET:
        url = f"{probe.scheme.lower()}://{_host(host)}:{probe.port}{probe.path or '/'}"
        headers = [arg for name, value in probe.headers for arg in ("--header", f"{name}: {value}")]
        extra = ["--no-check-certificate"] if probe.scheme.upper() == "HTTPS" else []  # as the kubelet: not verified
        # (no -q, no -T: the wget of Debian's busybox-static crashes with either; `timeout` bounds it,
        # and its last line says what failed)
        return ["timeout", "-s", "KILL", str(timeout), "wget", "-O", "/dev/null", *extra, *headers, url]
    # tcpSocket: connect, then run `true` on the connection (busybox nc has no -z)
    return ["timeout", "-s", "KILL", str(timeout), "nc", "-w", str(timeout), host, str(probe.port), "-e", "true"]


def _host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def demux(raw: bytes) -> str:
    """The text of an exec's attached output: Docker's multiplexed stream (8-byte frame headers),
    or plain bytes when the service did not frame it."""
    out, rest = [], raw
    while len(rest) >= 8 and rest[0] in (0, 1, 2) and rest[1:4] == b"\0\0\0":
        size = int.from_bytes(rest[4:8], "big")
        out.append(rest[8:8 + size])
        rest = rest[8 + size:]
    if rest:
        out.append(rest)
    return b"".join(out).decode(errors="replace")


def short(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return (lines[-1] if lines else "")[-OUTPUT_LIMIT:]


Call = Callable[..., Any]


class ProbeRunner:
    """Probes over one engine's calls; keeps the helpers it made, removes them on `close`."""

    def __init__(self, call: Call, image: str = DEFAULT_PROBE_IMAGE) -> None:
        self.call = call
        self.image = image
        self.helpers: dict[str, str] = {}  # infra ID -> helper name (made or found by this runner)
        self.made: set[str] = set()

    def probe(self, target: ProbeTarget, probe: Probe) -> ProbeResult:
        timeout = max(1, probe.timeout_seconds)
        if probe.handler is ProbeHandler.EXEC:
            # timeoutSeconds, and EXEC_SLACK for Podman to start the process (an exec costs it a
            # few hundred ms, more over ssh:// on a loaded host)
            return self.exec(target.container, list(probe.command), timeout + EXEC_SLACK, timeout)
        try:
            helper = self.helper(target)
        except EngineError as error:
            return ProbeResult(False, f"no probe helper: {error.message}")
        result = self.exec(helper, outside_command(probe, timeout), timeout + EXEC_SLACK + 1, timeout, helper=True)
        if result.output == "helper gone":  # it ended (its lifetime, the pod restarted): once more
            self.helpers.pop(target.infra_id, None)
            try:
                helper = self.helper(target)
            except EngineError as error:
                return ProbeResult(False, f"no probe helper: {error.message}")
            result = self.exec(helper, outside_command(probe, timeout), timeout + EXEC_SLACK + 1, timeout, helper=True)
        if not result.ok and (not result.output or result.output.startswith("exit code")):
            said = f" ({result.output})" if result.output else ""
            if probe.handler is ProbeHandler.TCP_SOCKET:
                return ProbeResult(False, f"no connection within {timeout}s{said}")
            return ProbeResult(False, f"no answer within {timeout}s, or an HTTP status outside 200-399{said}")
        return result

    def lookup(self, target: ProbeTarget, name: str, server: str, timeout: int = LOOKUP_TIMEOUT) -> ProbeResult:
        """Look `name` up (A records) at the DNS server `server`, from the pod's helper: ok when the
        answer holds an address (busybox's nslookup; its answer's `Address` lines follow `Name:`)."""
        command = ["sh", "-c", 'timeout -s KILL "$0" nslookup -type=a "$1" "$2" | sed -n "/^Name:/,\\$p" | grep "^Address"',
                   str(timeout), name, server]
        for _ in range(2):  # a helper gone (its lifetime, the pod restarted) is made again, once
            try:
                helper = self.helper(target)
            except EngineError as error:
                return ProbeResult(False, f"no probe helper: {error.message}")
            result = self.exec(helper, command, timeout + EXEC_SLACK + 1, timeout, helper=True)
            if result.output != "helper gone":
                break
            self.helpers.pop(target.infra_id, None)
        if not result.ok and (not result.output or result.output.startswith("exit code")):
            return ProbeResult(False, f"no address for {name} at {server}")
        return result

    def exec(self, container: str, command: Sequence[str], timeout: float, said: float, helper: bool = False) -> ProbeResult:
        """Run `command` in `container`; ok when it exits 0 within `timeout` seconds (`said`: the
        probe's own timeout, for messages)."""
        body = {"Cmd": list(command), "AttachStdout": True, "AttachStderr": True}
        try:
            made = self.call("post", f"/containers/{container}/exec", f"start a probe in {container}", body=body)
        except EngineError as error:
            if helper and error.reason in (Refusal.NOT_FOUND, Refusal.WRONG_STATE):
                return ProbeResult(False, "helper gone")
            return ProbeResult(False, error.message)
        exec_id = (made or {}).get("Id", "") if isinstance(made, dict) else ""
        began = time.monotonic()
        try:
            raw = self.call("post", f"/exec/{exec_id}/start", f"run a probe in {container}",
                            body={"Detach": False, "Tty": False}, timeout=timeout + 1, raw=True)
        except PodmanUnavailable:
            if time.monotonic() - began >= timeout:
                return ProbeResult(False, f"timed out after {said:g}s")
            raise
        except EngineError as error:
            return ProbeResult(False, error.message)
        try:
            inspected = self.call("get", f"/exec/{exec_id}/json", f"read a probe's exit code in {container}")
        except EngineError as error:
            return ProbeResult(False, error.message)
        code = (inspected or {}).get("ExitCode") if isinstance(inspected, dict) else None
        output = short(demux(raw if isinstance(raw, bytes) else b""))
        if time.monotonic() - began > timeout:
            return ProbeResult(False, f"timed out after {said:g}s")
        if code == 0:
            return ProbeResult(True, output)
        if helper and code == 137:  # killed by `timeout`
            return ProbeResult(False, f"timed out after {said:g}s")
        return ProbeResult(False, output or f"exit code {code}")

    def helper(self, target: ProbeTarget) -> str:
        """The helper in the pod's network namespace: the one already known, else one found running,
        else a new one."""
        known = self.helpers.get(target.infra_id)
        if known is not None:
            return known
        name = helper_name(target.infra_id)
        try:
            found = self.call("get", f"/containers/{name}/json", f"inspect probe helper {name}")
        except EngineError:
            found = None
        if found is not None and (foreign := not_a_helper(found, name, ROLE_PROBE)):
            raise EngineError(f"cannot probe pod {target.pod}: {foreign}",
                              "rename that container, or remove it if it is no one's")
        if isinstance(found, dict) and ((found.get("State") or {}).get("Status") == "running"):
            self.helpers[target.infra_id] = name
            return name
        if found is not None:
            self._remove(name)
        infra = self.call("get", f"/containers/{target.infra_id}/json", f"inspect the infra container of pod {target.pod}")
        settings = (infra or {}).get("NetworkSettings") or {}
        mode = ((infra or {}).get("HostConfig") or {}).get("NetworkMode", "")
        key = settings.get("SandboxKey") or ""
        netns = {"nsmode": "host"} if mode == "host" or not key else {"nsmode": "path", "value": key}
        body = {
            "name": name, "image": self.image, "command": ["sleep", str(HELPER_LIFETIME)], "remove": True,
            "netns": netns, "labels": {L.MANAGED_BY: L.MANAGER, L.ROLE: ROLE_PROBE, PROBE_OF: target.pod},
            "stop_timeout": 1,
        }
        try:
            self.call("post", "/containers/create", f"create probe helper {name} (image {self.image})", body=body)
        except EngineError as error:
            if error.reason is not Refusal.EXISTS:
                raise EngineError(
                    error.message,
                    f"httpGet and tcpSocket probes run from a helper container made from {self.image} "
                    "(PODSPEC_PROBE_IMAGE names another image with busybox's wget, nc and timeout)",
                ) from None
        else:
            self.made.add(name)
        try:
            self.call("post", f"/containers/{name}/start", f"start probe helper {name}")
        except EngineError as error:
            if error.reason is not Refusal.WRONG_STATE:
                raise
        self.helpers[target.infra_id] = name
        return name

    def _remove(self, name: str) -> None:
        try:
            self.call("delete", f"/containers/{name}", f"remove probe helper {name}", params={"force": "true", "timeout": 0})
        except EngineError:
            pass

    def close(self) -> None:
        for name in sorted(self.made):
            self._remove(name)
        self.made.clear()
        self.helpers.clear()
