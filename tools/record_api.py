#!/usr/bin/env python3
"""Record Podman's REST answers as test fixtures for podspec/engine/parse.py.

    python tools/record_api.py unix:///tmp/box/podman.sock tests/fixtures/podman/4.3

Sets up a few objects on a private Podman service (never the machine's default one: pass the
socket of `tools/sandbox.py up --dir DIR`), saves the raw answers libpod gives about them, and
removes what it made. It speaks only the REST API, so it records any Podman version the same way
(4.3 on the host, 5.x in its own mount namespace: only the socket differs). Nothing is pulled: the
objects use the stand-in images sandbox.py builds, and the one pull asked for is meant to fail.

What it sets up (the unit tests assert these values; change both together):
- volume `rec-data` with labels `rec=yes`, `tier=data`;
- pod `rec-web` with label `rec=pod`, port 18080 -> 80/tcp and 127.0.0.1:15353 -> 53/udp, holding
  - `rec-web-init`: an init container of type `always` (busybox, writes /data/index.html, exits 0),
  - `rec-web-app`: httpd, running, label `role=app`, mounting `rec-data` on /data,
  - `rec-web-done`: busybox `exit 3`, restart policy no: exited with code 3;
- pod `rec-bad`, whose one container's command does not exist: starting it fails;
- container `rec-lone`, in no pod (busybox `true`, created, never started);
- secret `rec-secret` with label `rec=yes` (Podman 4.3 lists it without its labels).

What it saves in the output directory: one file per answer, the body exactly as received
(`<name>.json`; a pull stream is concatenated JSON, kube-generate is YAML), and `index.json` mapping each name to the
request and the HTTP status. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

LIBPOD = "/v4.0.0/libpod"
BUSYBOX = "docker.io/library/busybox:latest"
HTTPD = "docker.io/library/httpd:2.4"
UNPULLABLE = "docker.io/library/nosuch:1"

VOLUME = "rec-data"
POD = "rec-web"
BAD_POD = "rec-bad"
LONE = "rec-lone"
SECRET = "rec-secret"


class Service:
    def __init__(self, url: str) -> None:
        if not url.startswith("unix://"):
            raise SystemExit(f"{url}: only unix:// sockets are supported")
        self.path = url[len("unix://"):]

    def request(self, method: str, path: str, params: dict | None = None, body: object = None,
                timeout: float = 120) -> tuple[int, bytes]:
        target = LIBPOD + path + (f"?{urlencode(params)}" if params else "")
        raw = isinstance(body, bytes)  # a secret's value travels as it is
        payload = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
        head = f"{method} {target} HTTP/1.0\r\nHost: podman\r\n"
        if body is not None:
            kind = "application/octet-stream" if raw else "application/json"
            head += f"Content-Type: {kind}\r\nContent-Length: {len(payload)}\r\n"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(self.path)
            sock.sendall(head.encode() + b"\r\n" + payload)
            chunks = []
            while data := sock.recv(1 << 16):
                chunks.append(data)
        header, _, content = b"".join(chunks).partition(b"\r\n\r\n")
        return int(header.split(b" ", 2)[1]), content

    def ok(self, method: str, path: str, params: dict | None = None, body: object = None) -> bytes:
        status, content = self.request(method, path, params, body)
        if status >= 400:
            raise SystemExit(f"{method} {path} failed ({status}): {content.decode(errors='replace')}")
        return content


class AnswerRecorder:
    """Saves Podman's answers to named calls as JSON fixtures, with an index (not the listener run.listener.Recorder)."""
    def __init__(self, service: Service, out: Path) -> None:
        self.service = service
        self.out = out
        self.index: dict[str, dict] = {}

    def save(self, name: str, method: str, path: str, params: dict | None = None, body: object = None) -> bytes:
        status, content = self.service.request(method, path, params, body)
        (self.out / f"{name}.json").write_bytes(content)
        self.index[name] = {"method": method, "path": path, "params": params or {}, "status": status}
        print(f"record_api: {name}: {method} {path} -> {status}", file=sys.stderr)
        return content

    def write_index(self, version: str) -> None:
        (self.out / "index.json").write_text(json.dumps({"version": version, "answers": self.index}, indent=2) + "\n")


def container(name: str, image: str, command: list[str], pod: str = "", **extra: object) -> dict:
    body: dict = {"name": name, "image": image, "command": command, "stop_timeout": 1, **extra}
    if pod:
        body["pod"] = pod
    return body


def set_up(service: Service) -> None:
    service.ok("POST", "/volumes/create", body={"Name": VOLUME, "Label": {"rec": "yes", "tier": "data"}})
    service.ok("POST", "/pods/create", body={
        "name": POD,
        "labels": {"rec": "pod"},
        "portmappings": [
            {"container_port": 80, "host_port": 18080, "protocol": "tcp"},
            {"container_port": 53, "host_port": 15353, "host_ip": "127.0.0.1", "protocol": "udp"},
        ],
    })
    data = [{"Name": VOLUME, "Dest": "/data"}]
    service.ok("POST", "/containers/create", body=container(
        f"{POD}-init", BUSYBOX, ["sh", "-c", "echo recorded > /data/index.html"], POD,
        init_container_type="always", volumes=data,
    ))
    service.ok("POST", "/containers/create", body=container(
        f"{POD}-app", HTTPD, ["httpd", "-f", "-p", "80", "-h", "/data"], POD,
        labels={"role": "app"}, volumes=data, restart_policy="always",
    ))
    service.ok("POST", "/containers/create", body=container(
        f"{POD}-done", BUSYBOX, ["sh", "-c", "exit 3"], POD, restart_policy="no",
    ))
    service.ok("POST", "/pods/create", body={"name": BAD_POD})
    service.ok("POST", "/containers/create", body=container(f"{BAD_POD}-main", BUSYBOX, ["/no/such/command"], BAD_POD))
    service.ok("POST", "/containers/create", body=container(LONE, BUSYBOX, ["true"]))
    service.ok("POST", "/secrets/create", {"name": SECRET, "labels": json.dumps({"rec": "yes"})}, body=b"recorded")


def wait_exited(service: Service, name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = json.loads(service.ok("GET", f"/containers/{name}/json")).get("State") or {}
        if state.get("Status") == "exited":
            return
        time.sleep(0.2)
    raise SystemExit(f"{name} did not exit within {timeout:.0f}s")


def record(service: Service, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    r = AnswerRecorder(service, out)
    set_up(service)
    r.save("containers-created", "GET", "/containers/json", {"all": "true"})
    service.ok("POST", f"/pods/{POD}/start")
    wait_exited(service, f"{POD}-done")
    wait_exited(service, f"{POD}-init")
    r.save("containers", "GET", "/containers/json", {"all": "true"})
    r.save("volumes", "GET", "/volumes/json")
    r.save("images", "GET", "/images/json")
    r.save("pods", "GET", "/pods/json")
    r.save("pod-inspect", "GET", f"/pods/{POD}/json")
    r.save("container-inspect", "GET", f"/containers/{POD}-app/json")
    r.save("container-inspect-exited", "GET", f"/containers/{POD}-done/json")
    r.save("image-inspect", "GET", f"/images/{HTTPD}/json")
    r.save("volume-inspect", "GET", f"/volumes/{VOLUME}/json")
    r.save("secrets", "GET", "/secrets/json")
    r.save("secret-inspect", "GET", f"/secrets/{SECRET}/json")
    version = r.save("version", "GET", "/version")
    # Errors: each as Podman words it.
    r.save("error-no-such-container", "GET", "/containers/rec-nosuch/json")
    r.save("error-pod-name-in-use", "POST", "/pods/create", body={"name": POD})
    r.save("error-container-name-in-use", "POST", "/containers/create", body=container(LONE, BUSYBOX, ["true"]))
    r.save("error-volume-in-use", "DELETE", f"/volumes/{VOLUME}")
    r.save("error-image-not-known", "POST", "/containers/create",
           body=container("rec-noimage", "localhost/rec-no-such-image:1", ["true"]))
    r.save("error-pod-start", "POST", f"/pods/{BAD_POD}/start")
    r.save("kube-generate", "GET", "/generate/kube", {"names": POD})
    r.save("pull-unpullable", "POST", "/images/pull", {"reference": UNPULLABLE, "quiet": "true"})
    r.save("pull-unpullable-progress", "POST", "/images/pull", {"reference": UNPULLABLE, "quiet": "false"})
    r.write_index(str(json.loads(version).get("Version", "?")))


def clean_up(service: Service) -> None:
    for pod in (POD, BAD_POD):
        service.request("POST", f"/pods/{pod}/stop", {"t": 1})
        service.request("DELETE", f"/pods/{pod}", {"force": "true"})
    for name in (LONE, "rec-noimage"):
        service.request("DELETE", f"/containers/{name}", {"force": "true", "timeout": 0})
    service.request("DELETE", f"/volumes/{VOLUME}", {"force": "true"})
    service.request("DELETE", f"/secrets/{SECRET}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url", help="the private service's socket, unix:///PATH")
    parser.add_argument("out", type=Path, help="the fixture directory, e.g. tests/fixtures/podman/4.3")
    args = parser.parse_args(argv)
    service = Service(args.url)
    clean_up(service)  # what an interrupted run left behind
    try:
        record(service, args.out)
    finally:
        clean_up(service)
    return 0


if __name__ == "__main__":
    sys.exit(main())
