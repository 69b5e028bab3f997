"""The probes as podspec records them in a container's last-applied intent (its labels): the
writer (`probe_spec`, used by reconcile/intent.py) and the reader (`probes_from_spec`: what
`podspec start`, the probe runner and export read back from the host, with no manifest at hand)."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any, Mapping

from podspec.model import Container

if TYPE_CHECKING:
    from podspec.model import Probe


class ProbeKind(str, Enum):
    STARTUP = "startup"
    LIVENESS = "liveness"
    READINESS = "readiness"


def probes_of(container: Container) -> tuple[tuple[ProbeKind, Probe], ...]:
    """Every probe of a container, startup first."""
    found = ((ProbeKind.STARTUP, container.startup_probe), (ProbeKind.LIVENESS, container.liveness_probe),
             (ProbeKind.READINESS, container.readiness_probe))
    return tuple((kind, probe) for kind, probe in found if probe is not None)


_SPEC_KEYS = {ProbeKind.STARTUP: "startupProbe", ProbeKind.LIVENESS: "livenessProbe", ProbeKind.READINESS: "readinessProbe"}


def probes_from_spec(spec: Mapping[str, Any] | None) -> tuple[tuple[ProbeKind, Probe], ...]:
    """The probes a container's last-applied intent (its labels) records, startup first: what
    `podspec start` runs with no manifest at hand. An unreadable probe is left out."""
    found = []
    for kind in ProbeKind:
        raw = (spec or {}).get(_SPEC_KEYS[kind])
        probe = probe_from_spec(raw) if isinstance(raw, Mapping) else None
        if probe is not None:
            found.append((kind, probe))
    return tuple(found)


def probe_from_spec(raw: Mapping[str, Any]) -> Probe | None:
    """A Probe from the intent's form of it (reconcile/intent.py `_probe_spec`)."""
    from podspec.model import Probe, ProbeHandler  # (model.EXTRA: only for containers with probes)

    try:
        headers = []
        for text in raw.get("httpHeaders") or ():
            name, _, value = str(text).partition(": ")
            headers.append((name, value))
        port = raw.get("port")
        return Probe(
            handler=ProbeHandler(raw["handler"]),
            command=tuple(str(c) for c in raw.get("command") or ()),
            path=str(raw.get("path") or ""),
            port=int(port) if port is not None else None,
            host=str(raw.get("host") or ""),
            scheme=str(raw.get("scheme") or "HTTP"),
            headers=tuple(headers),
            initial_delay_seconds=int(raw.get("initialDelaySeconds") or 0),
            period_seconds=int(raw.get("periodSeconds") or 10),
            timeout_seconds=int(raw.get("timeoutSeconds") or 1),
            success_threshold=int(raw.get("successThreshold") or 1),
            failure_threshold=int(raw.get("failureThreshold") or 3),
        )
    except (KeyError, ValueError, TypeError):
        return None


def _pruned(spec: dict) -> dict:
    return {k: v for k, v in spec.items() if v not in (None, "", False, (), [], {})}


def probe_spec(probe: Probe | None) -> dict[str, Any] | None:
    if probe is None:
        return None
    return _pruned(
        {
            "handler": probe.handler.value,
            "command": list(probe.command),
            "path": probe.path,
            "port": probe.port,
            "host": probe.host,
            "scheme": probe.scheme if probe.scheme != "HTTP" else "",
            "httpHeaders": [f"{name}: {value}" for name, value in probe.headers],
            "initialDelaySeconds": probe.initial_delay_seconds,
            "periodSeconds": probe.period_seconds,
            "timeoutSeconds": probe.timeout_seconds,
            "successThreshold": probe.success_threshold,
            "failureThreshold": probe.failure_threshold,
        }
    )
