"""A real registry server for the tests of pulls: Debian's docker-registry (the CNCF distribution
registry 2.8) on a free loopback port, with storage of its own, in one of three modes:

- `open`: anyone pulls and pushes (plain HTTP on 127.0.0.1:PORT, which the sandbox's
  registries.conf marks insecure);
- `htpasswd`: basic authentication against an htpasswd file made for the test (bcrypt, by
  `htpasswd -B`), still plain HTTP on 127.0.0.1:PORT;
- `tls`: HTTPS with a self-signed certificate made for the test, reached as `localhost:PORT`, which
  the sandbox does not mark insecure: Podman must refuse it (the TLS failure).

Nothing is ever pulled from a public registry: the images in it are the sandbox's stand-ins and
variants built from them (`build_variant`), pushed by the test (`push`). Run the tests inside a
private network namespace (see docs/development.md) so ports never clash with other runs.

Fixtures (import them into a test module): `registry` and `auth_registry` (session), `pulled`
(per test: removes every image of the test registries from the sandbox afterwards, so that each test
starts with nothing pulled).
"""

from __future__ import annotations

import base64
import json
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import PodmanSandbox, free_port

USER = "podspec-test"
PASSWORD = "s3cret-Pa55word-for-the-test"  # the tests assert it never shows up in any output


@dataclass
class Registry:
    """A running registry server and what the tests need to use it."""

    mode: str  # open, htpasswd or tls
    host: str  # what image references start with: 127.0.0.1:PORT (or localhost:PORT for tls)
    root: Path
    process: subprocess.Popen
    user: str = ""
    password: str = ""
    pushed: dict[str, str] = field(default_factory=dict)  # repo:tag -> the digest pushed last

    def ref(self, name: str) -> str:
        """`app:1` -> `127.0.0.1:PORT/app:1`."""
        return f"{self.host}/{name}"

    def auth_file(self, path: Path, user: str | None = None, password: str | None = None) -> Path:
        """An auth file in Podman's (and Docker's) format holding this registry's credentials."""
        token = base64.b64encode(f"{user or self.user}:{password or self.password}".encode()).decode()
        path.write_text(json.dumps({"auths": {self.host: {"auth": token}}}, indent=2) + "\n")
        return path

    def manifest_digest(self, name: str) -> str:
        """The digest the registry serves for `repo:tag` (HEAD of its manifest)."""
        repo, _, tag = name.rpartition(":")
        request = urllib.request.Request(
            f"http://{self.host}/v2/{repo}/manifests/{tag}", method="HEAD",
            headers={"Accept": "application/vnd.oci.image.manifest.v1+json, "
                               "application/vnd.docker.distribution.manifest.v2+json"},
        )
        if self.user:
            token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.headers["Docker-Content-Digest"]

    def requests(self, method: str, path_prefix: str) -> int:
        """Requests in the access log (a registry started with access_log) of `method` on paths
        starting with `path_prefix` (e.g. "HEAD", "/v2/app/manifests/")."""
        text = (self.root / "registry.log").read_text(errors="replace")
        return sum(1 for line in text.splitlines() if f'"{method} {path_prefix}' in line)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _config(root: Path, port: int, mode: str, access_log: bool = False) -> str:
    lines = [
        "version: 0.1",
        "log:",
        "  level: warn",
        "  accesslog:",
        f"    disabled: {'false' if access_log else 'true'}",
        "storage:",
        "  filesystem:",
        f"    rootdirectory: {root / 'data'}",
        "  delete:",
        "    enabled: true",
        "http:",
        f"  addr: 127.0.0.1:{port}",
    ]
    if mode == "tls":
        lines += ["  tls:", f"    certificate: {root / 'cert.pem'}", f"    key: {root / 'key.pem'}"]
    if mode == "htpasswd":
        lines += ["auth:", "  htpasswd:", "    realm: podspec-test", f"    path: {root / 'htpasswd'}"]
    return "\n".join(lines) + "\n"


def start(root: Path, mode: str = "open", timeout: float = 20.0, access_log: bool = False) -> Registry:
    """Start a registry server in `root` (its storage, configuration and log). With `access_log`,
    registry.log has a line per request (`Registry.requests` counts them)."""
    if shutil.which("docker-registry") is None:
        pytest.fail("docker-registry is not installed: run scripts/bootstrap.sh")
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    user = password = ""
    if mode == "htpasswd":
        user, password = USER, PASSWORD
        with open(root / "htpasswd", "w") as out:  # bcrypt, as the distribution registry requires
            subprocess.run(["htpasswd", "-Bbn", user, password], check=True, stdout=out)
    if mode == "tls":
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost", "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem")],
            check=True, capture_output=True,
        )
    (root / "config.yml").write_text(_config(root, port, mode, access_log))
    log = open(root / "registry.log", "ab")
    process = subprocess.Popen(["docker-registry", "serve", str(root / "config.yml")],
                               stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    host = f"{'localhost' if mode == 'tls' else '127.0.0.1'}:{port}"
    registry = Registry(mode, host, root, process, user, password)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _answers(port, mode):
            return registry
        if process.poll() is not None:
            break
        time.sleep(0.05)
    registry.stop()
    raise AssertionError(f"the registry did not start; see {root / 'registry.log'}:\n"
                         + (root / "registry.log").read_text()[-2000:])


def _answers(port: int, mode: str) -> bool:
    scheme = "https" if mode == "tls" else "http"
    context = ssl._create_unverified_context() if mode == "tls" else None  # our own test server
    try:
        with urllib.request.urlopen(f"{scheme}://127.0.0.1:{port}/v2/", timeout=2, context=context):
            return True
    except urllib.error.HTTPError as error:
        return error.code == 401  # htpasswd mode answers, and asks for credentials
    except OSError:
        return False


# ------------------------------------------------------------------------------------- images


def build_variant(podman: PodmanSandbox, name: str, marker: str, base: str = "docker.io/library/busybox:latest",
                  payload: int = 0) -> str:
    """A local image `name`: `base` plus /marker holding `marker` (and `payload` random bytes in
    /payload, to give it size); built without running anything. Returns its ID."""
    work = podman.state / "tmp" / f"build-{abs(hash((name, marker)))}"
    work.mkdir(parents=True, exist_ok=True)
    (work / "marker").write_text(marker + "\n")
    copies = "COPY marker /marker\n"
    if payload:
        import os

        (work / "payload").write_bytes(os.urandom(payload))
        copies += "COPY payload /payload\n"
    (work / "Containerfile").write_text(f"FROM {base}\n{copies}")
    podman.podman("build", "-q", "--pull=never", "-t", name, "-f", str(work / "Containerfile"), str(work))
    shutil.rmtree(work, ignore_errors=True)
    return podman.podman("image", "inspect", "--format", "{{.Id}}", name).stdout.strip()


def push(podman: PodmanSandbox, registry: Registry, local: str, name: str) -> str:
    """Push the local image `local` as `name` (`app:1`) into the registry; return the pushed digest."""
    args = ["push", "-q", "--tls-verify=false", "--digestfile", str(podman.state / "tmp" / "digest")]
    if registry.user:
        args += ["--creds", f"{registry.user}:{registry.password}"]
    podman.podman(*args, local, registry.ref(name))
    digest = (podman.state / "tmp" / "digest").read_text().strip()
    registry.pushed[name] = digest
    return digest


def remove_images_of(podman: PodmanSandbox, *registries: Registry) -> None:
    """Remove every name of these registries from the sandbox (the next pull downloads again). By
    name, not ID: an image pulled from the registry may be a stand-in under its other name, which
    stays (the stand-ins are never removed)."""
    out = podman.podman("images", "--format", "{{.Repository}}:{{.Tag}}").stdout
    doomed = sorted({line.strip() for line in out.splitlines()
                     if any(line.startswith(r.host + "/") for r in registries) and not line.endswith(":<none>")})
    if doomed:
        podman.podman("rmi", "--force", *doomed, check=False)
    # digest-only names (pulled by digest) show as <none> tags
    out = podman.podman("images", "--digests", "--format", "{{.Repository}}@{{.Digest}} {{.Tag}}").stdout
    pinned = sorted({line.split()[0] for line in out.splitlines()
                     if any(line.startswith(r.host + "/") for r in registries) and line.endswith("<none>")})
    if pinned:
        podman.podman("rmi", "--force", *pinned, check=False)


# ------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def registry(podman_sandbox: PodmanSandbox, tmp_path_factory: pytest.TempPathFactory):
    """An open registry holding the stand-ins as HOST/library/{busybox:latest,httpd:2.4,alpine:latest}."""
    server = start(tmp_path_factory.mktemp("registry"), "open")
    try:
        for name in ("busybox:latest", "httpd:2.4", "alpine:latest"):
            push(podman_sandbox, server, f"docker.io/library/{name}", f"library/{name}")
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def auth_registry(podman_sandbox: PodmanSandbox, tmp_path_factory: pytest.TempPathFactory):
    """A registry with htpasswd authentication holding HOST/private/busybox:latest."""
    server = start(tmp_path_factory.mktemp("auth-registry"), "htpasswd")
    try:
        push(podman_sandbox, server, "docker.io/library/busybox:latest", "private/busybox:latest")
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def tls_registry(podman_sandbox: PodmanSandbox, tmp_path_factory: pytest.TempPathFactory):
    """A registry on HTTPS with a certificate nobody trusts (reached as localhost:PORT)."""
    server = start(tmp_path_factory.mktemp("tls-registry"), "tls")
    try:
        yield server
    finally:
        server.stop()
