#!/usr/bin/env python3
"""Record the answers of a real Podman service to what podspec reads, for the engine's parsing
tests (tests/unit/test_recorded_pods.py): one JSON file per Podman version in tests/fixtures/recorded-pods/.

    unshare --net --fork -- bash -c 'ip link set lo up && \\
        .venv/bin/python tools/record_pods.py --engine podman4 && .venv/bin/python tools/record_pods.py --engine podman5'

On a private sandbox (tools/sandbox.py) it makes the pods tutorial's pod by hand with the podman CLI
(`by-hand`), the same pod with podspec (`applied`, manifests/webserver.yaml) and, on Podman 5, a pod
with an image volume (`image-volume`), then records every GET that `observe()`, `version()` and the
export's `read_pods()` make. The sandbox's own paths are replaced by /var/lib/podspec-recorded. Run it
in a private network namespace: the pods publish ports 18080 and 18081.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Mapping

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT))
import sandbox  # noqa: E402

from podspec.engine.connection import Endpoint  # noqa: E402
from podspec.engine.httpclient import HttpClient  # noqa: E402
from podspec.engine.podman import PodmanEngine  # noqa: E402
from podspec.engine.transport import Reply  # noqa: E402
from podspec.export.reading import read_pods  # noqa: E402

OUT = ROOT / "tests" / "fixtures" / "recorded-pods"
INIT = 'echo "Static Website Init" > /usr/local/apache2/htdocs/index.html'
SIDECAR = 'while true; do echo "Index Updated @$(date)" >> /usr/local/apache2/htdocs/index.html; sleep 10; done'
IMAGE_VOLUME = """\
apiVersion: v1
kind: Pod
metadata:
  name: image-volume
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sleep", "100000"]
      volumeMounts:
        - {name: site, mountPath: /htdocs, subPath: usr/local/apache2/htdocs}
  volumes:
    - name: site
      image: {reference: "docker.io/library/httpd:2.4"}
"""


def key(method: str, path: str, params: Mapping[str, Any] | None) -> str:
    query = "&".join(f"{k}={v}" for k, v in sorted((params or {}).items()))
    return f"{method.upper()} {path}" + (f"?{query}" if query else "")


class RecordingClient(HttpClient):
    def __init__(self, socket_path: str, scrub: str) -> None:
        super().__init__(socket_path, 60)
        self.scrub = scrub
        self.answers: dict[str, dict[str, Any]] = {}

    def request(self, method: str, path: str, params: Mapping[str, Any] | None = None,
                body: Any = None, timeout: float | None = None) -> Reply:
        reply = super().request(method, path, params, body, timeout)
        if method.lower() == "get":
            self.answers[key(method, path, params)] = {
                "status": reply.status_code, "body": reply.text.replace(self.scrub, "/var/lib/podspec-recorded")}
        return reply


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=sandbox.ENGINES, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="podspec-record-") as tmp:
        state = Path(tmp) / "podman"
        url = sandbox.up(state, args.engine)
        p = lambda *a: sandbox.podman(state, *a)
        try:
            p("volume", "create", "webserver-data")
            p("pod", "create", "-p", "18080:80", "--name", "by-hand", "--volume", "webserver-data:/usr/local/apache2/htdocs:z")
            p("create", "--stop-timeout", "1", "--name", "apache-httpd-init", "--init-ctr=always", "--pod", "by-hand",
              "busybox", "sh", "-c", INIT)
            p("create", "--stop-timeout", "1", "--name", "apache-httpd", "--pod", "by-hand", "httpd:2.4")
            p("create", "--stop-timeout", "1", "--name", "apache-httpd-index-updater", "--pod", "by-hand",
              "alpine", "sh", "-c", SIDECAR)
            p("pod", "start", "by-hand")
            manifest = Path(tmp) / "applied.yaml"
            manifest.write_text((ROOT / "manifests" / "webserver.yaml").read_text()
                                .replace("hostPort: 8080", "hostPort: 18081").replace("dynamic-webserver", "applied")
                                .replace("webserver-data", "applied-data"))
            pods = ["by-hand", "applied"]
            import subprocess

            subprocess.run([str(ROOT / ".venv" / "bin" / "podspec"), "apply", str(manifest), "--url", url, "--project", "recorded"],
                           check=True, capture_output=True)
            engine0 = PodmanEngine(Endpoint(url, "the recorder"))
            if engine0.version().startswith("5"):
                image = Path(tmp) / "image.yaml"
                image.write_text(IMAGE_VOLUME)
                subprocess.run([str(ROOT / ".venv" / "bin" / "podspec"), "apply", str(image), "--url", url,
                                "--project", "recorded"], check=True, capture_output=True)
                pods.append("image-volume")
            time.sleep(2)  # let the `once`/`always` init containers finish, the others run
            recorder = RecordingClient(str(sandbox.socket_path(state)), str(state))
            engine = PodmanEngine(Endpoint(url, "the recorder"), transport=recorder)
            version = engine.version()
            engine.observe()
            read_pods(engine, pods)
            out = OUT / f"podman-{version}.json"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps({"version": version, "pods": pods, "answers": recorder.answers},
                                      indent=1, sort_keys=True) + "\n")
            print(out)
        finally:
            sandbox.discard(state)
    return 0


if __name__ == "__main__":
    sys.exit(main())
