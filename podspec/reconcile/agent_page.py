"""The agent's status page (`GET /` on the agent's HTTP address), as HTML text (pure).

One small page, no script: the source and branch, the revision on the host and when it was
applied, the last error, each pod of the project with its state, drift and restarts, the image
updates the agent watches, and the history of applies. It reloads itself (a meta refresh). Every
text that comes from the manifests, the host or git is escaped (a pod named `<script>` shows as
that text); the page shows names, states and messages, never an environment value or Secret data.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from urllib.parse import urlsplit, urlunsplit

from podspec.reconcile.history import HistoryRecord
from podspec.reconcile.status import PodReport


@dataclass(frozen=True)
class ImageLine:
    """An image the agent checks for updates (io.containers.autoupdate)."""

    image: str
    mode: str  # registry | local
    state: str  # current | update available | updated | check failed: ... | not checked yet
    checked_at: float | None = None
    containers: tuple[str, ...] = ()
    updated: str = ""  # the last update the agent applied: "sha256:... at TIME"; "" none


@dataclass(frozen=True)
class PageView:
    project: str
    source: str
    branch: str
    paths: tuple[str, ...]
    now: float
    applied: str | None = None
    applied_at: float | None = None
    fetched: str | None = None
    last_fetch: float | None = None
    next_round: float | None = None
    last_error: str | None = None
    error_revision: str | None = None
    failures: int = 0
    drift_repairs: int = 0
    crash_loops: tuple[tuple[str, float], ...] = ()
    pods: tuple[PodReport, ...] = ()
    history: tuple[HistoryRecord, ...] = ()
    images: tuple[ImageLine, ...] = ()
    host_error: str = ""  # the host could not be read for this page
    refresh: int = 10  # seconds
    receiver: bool = False  # the webhook receiver is on
    notify: int = 0  # --notify URLs
    extra: tuple[tuple[str, str], ...] = field(default=())


def shown_source(source: str) -> str:
    """A git URL without its user name or password (an https token often rides there)."""
    parts = urlsplit(source)
    if parts.scheme in ("http", "https", "ssh", "git") and parts.password is not None:
        host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
        user = f"{parts.username}@" if parts.scheme == "ssh" and parts.username else ""
        return urlunsplit((parts.scheme, user + host, parts.path, "", ""))
    if parts.scheme in ("http", "https") and parts.username:
        host = (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    return source


def _when(seconds: float | None, now: float) -> str:
    if seconds is None:
        return "never"
    stamp = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(seconds))
    ago = now - seconds
    if ago >= 0:
        return f"{stamp} ({_span(ago)} ago)"
    return f"{stamp} (in {_span(-ago)})"


def _span(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


def _row(cells: Sequence[str], css: str = "") -> str:
    klass = f' class="{escape(css)}"' if css else ""
    return f"<tr{klass}>" + "".join(f"<td>{escape(c)}</td>" for c in cells) + "</tr>"


def _table(caption: str, heads: Sequence[str], rows: Sequence[str], empty: str, ident: str) -> str:
    if not rows:
        return f'<section id="{ident}"><h2>{escape(caption)}</h2><p class="empty">{escape(empty)}</p></section>'
    head = "".join(f"<th>{escape(h)}</th>" for h in heads)
    return (f'<section id="{ident}"><h2>{escape(caption)}</h2><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></section>")


_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em;color:#1b1f23;background:#fafbfc}
h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.1em;margin:1.2em 0 .4em}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid #d0d7de;padding:.3em .5em;text-align:left;vertical-align:top;font-size:.92em}
th{background:#eef1f4}dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em;margin:0}
dt{font-weight:600}dd{margin:0;font-family:ui-monospace,monospace}
.ok{background:#e6f4ea}.bad{background:#fde7e9}.warn{background:#fff4ce}
.error{border:2px solid #cf222e;background:#fde7e9;padding:.5em;white-space:pre-wrap}
.empty{color:#57606a}footer{margin-top:1.5em;color:#57606a;font-size:.85em}
"""


def render(view: PageView) -> str:
    now = view.now
    facts = [
        ("project", view.project),
        ("source", shown_source(view.source)),
        ("branch", view.branch),
        ("paths", ", ".join(view.paths) or "."),
        ("revision applied", view.applied or "none yet"),
        ("applied at", _when(view.applied_at, now)),
        ("branch head fetched", view.fetched or "not yet"),
        ("last fetch", _when(view.last_fetch, now)),
        ("next round", _when(view.next_round, now)),
        ("drift repairs", str(view.drift_repairs)),
        ("webhook receiver", "on" if view.receiver else "off"),
        ("notification URLs", str(view.notify)),
        *view.extra,
    ]
    summary = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts)
    if view.last_error:
        about = f" (revision {view.error_revision[:12]})" if view.error_revision else ""
        error = (f'<section id="last-error"><h2>Last error{escape(about)}</h2><div class="error">{escape(view.last_error)}'
                 f"</div><p>failed rounds in a row: {view.failures}</p></section>")
    else:
        error = '<section id="last-error"><h2>Last error</h2><p class="empty">none</p></section>'
    held = dict(view.crash_loops)
    pod_rows = []
    for pod in view.pods:
        drift = "; ".join(pod.drift) or "none"
        if pod.name in held:
            drift = f"crash loop: repair held until {_when(held[pod.name], now)}; " + drift
        css = "bad" if pod.drift or pod.name in held else "ok"
        for i, c in enumerate(pod.containers or ()):
            first = i == 0
            pod_rows.append(_row([pod.name if first else "", pod.status if first else "", c.name, c.role, c.state, c.image,
                                  str(c.restarts),
                                  drift if first else "", (pod.revision or "")[:12] if first else ""], css))
        if not pod.containers:
            pod_rows.append(_row([pod.name, pod.status, "", "", "", "", "", drift, (pod.revision or "")[:12]], css))
    pods = _table(f"Pods of {view.project}", ["pod", "pod state", "container", "role", "state", "image", "restarts",
                                              "drift", "revision"], pod_rows,
                  f"cannot read the host: {view.host_error}" if view.host_error else "no pods of this project on the host",
                  "pods")
    image_rows = [_row([i.image, i.mode, i.state, _when(i.checked_at, now), ", ".join(i.containers), i.updated or "-"],
                       "warn" if "available" in i.state else ("bad" if "failed" in i.state else ""))
                  for i in view.images]
    images = _table("Image updates (io.containers.autoupdate)", ["image", "mode", "state", "checked", "containers",
                                                                  "last update applied"],
                    image_rows, "no container asks for image updates", "images")
    history_rows = [_row([str(h.seq), h.time, h.revision[:12], h.outcome, ", ".join(h.changed) or "-",
                          ", ".join(h.removed) or "-", h.error or ""], "bad" if h.outcome == "failed" else "")
                    for h in view.history]
    history = _table("History", ["#", "time", "revision", "outcome", "changed", "removed", "error"], history_rows,
                     "no applies recorded", "history")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="refresh" content="{int(view.refresh)}">'
        f"<title>podspec sync: {escape(view.project)}</title><style>{_STYLE}</style></head><body>"
        f"<h1>podspec sync: {escape(view.project)}</h1><dl id=\"summary\">{summary}</dl>"
        f"{error}{pods}{images}{history}"
        f"<footer>read-only; refreshes every {int(view.refresh)}s; rendered {escape(_when(now, now))}</footer>"
        "</body></html>\n"
    )
