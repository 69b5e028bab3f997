"""A whole application through its life, as a user keeps it in git: examples/shop (a front end ->
an API of two replicas -> a key-value store on a claim, reached by Service names, ConfigMaps, a
SOPS-encrypted Secret, probes, limits, an init container, a LoadBalancer Service) on a real Podman
(both engines). One application for the module; each test is the next step of its life, and
asserts what a user sees: the page through the whole chain, the data kept, the IDs of what did not
change, exit codes and what podspec says."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
import sandbox  # (tools/ is on sys.path: tests/conftest.py)

from tests.conftest import fetch, free_port
from tests.integration.manifests import podspec
from tests.integration.test_lifecycle import BOOT_UNITS, unit_command
from tests.sopskit import AgeKey, age_key, encrypt

pytestmark = pytest.mark.podman

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "shop"
PROJECT = "shop"
PASSWORD = "kv-Pa55-8Jw2q"  # the Secret's value: looked for where it must not be


@dataclass(frozen=True)
class Shop:
    podman: object
    manifests: Path
    key: AgeKey
    port: int

    def run(self, *args: str):
        flags = ("--age-key-file", str(self.key.file)) if args[0] in ("apply", "diff", "delete") else ()
        return podspec(self.podman, *args, *flags, project=PROJECT)

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/cgi-bin/shop"

    def page(self, until=lambda body: "visit " in body and "unknown" not in body, timeout: float = 60) -> str:
        """The shop's page through the whole chain: host port -> svclb-web -> web -> api -> kv."""
        return fetch(self.url(), timeout=timeout, until=until)

    def edit(self, name: str, old: str, new: str) -> None:
        path = self.manifests / name
        text = path.read_text()
        assert old in text, (name, old)
        path.write_text(text.replace(old, new))

    def visits(self) -> int:
        return int(self.podman.podman("exec", "kv-kv", "cat", "/data/keys/visits").stdout)


def containers(podman) -> dict[str, str]:
    """Container -> ID, infra containers named after their pod (`kv/infra`): what was recreated."""
    out = podman.podman("ps", "-a", "--format", "{{.Names}}|{{.ID}}|{{.PodName}}|{{.IsInfra}}").stdout
    rows = [line.split("|") for line in out.splitlines() if line.strip()]
    # (outside any pod: the probe helper, which comes and goes)
    return {f"{pod}/infra" if infra == "true" else name: cid for name, cid, pod, infra in rows if pod}


def visit(body: str) -> int:
    found = re.search(r"visit (\d+)", body)
    assert found, body
    return int(found.group(1))


@pytest.fixture(scope="module")
def shop(podman_sandbox, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("shop")
    manifests = tmp / "shop"
    shutil.copytree(EXAMPLE, manifests, ignore=shutil.ignore_patterns("*.md"))
    key = age_key(tmp, "host.key")
    secret = manifests / "secrets" / "kv-auth.yaml"
    secret.write_text(encrypt(secret.read_text().replace("change-me-before-encrypting", PASSWORD), key))
    app = Shop(podman_sandbox, manifests, key, free_port())
    app.edit("web.yaml", "port: 8080", f"port: {app.port}")
    yield app
    podman_sandbox.purge()
    podman_sandbox.podman("secret", "rm", "--all", check=False)


def test_apply_from_empty_serves_the_page_through_every_service_name(shop):
    applied = shop.run("apply", "--wait", "--timeout", "120", str(shop.manifests))
    assert applied.exit_code == 0, applied.output + applied.stderr
    assert "Names answer on network podspec-shop" in applied.output + applied.stderr
    body = shop.page()
    assert body.startswith("Corner Shop | api api-pod") and "says hello: visit 1" in body, body
    assert visit(shop.page()) == 2 and shop.visits() == 2
    # the init container seeded the store once
    assert shop.podman.podman("exec", "kv-kv", "cat", "/data/init-runs").stdout == "seeded\n"
    again = shop.run("diff", str(shop.manifests))
    assert again.exit_code == 0, again.output
    # the password reached kv and api as files, and nothing podspec printed
    assert shop.podman.podman("exec", "api-pod-api", "cat", "/run/secrets/kv/password").stdout == PASSWORD
    assert PASSWORD not in applied.output + applied.stderr + again.output + again.stderr


def test_a_configmap_change_rolls_only_the_pods_that_read_it(shop):
    before = containers(shop.podman)
    shop.edit("api.yaml", "GREETING: hello", "GREETING: howdy")
    pending = shop.run("diff", "-o", "markdown", str(shop.manifests))
    assert pending.exit_code == 2, pending.stderr
    assert "configMap api-config changed" in pending.output
    for pod in ("api-pod-b", "api-pod-1-b"):  # each new copy says what changes from the old one
        assert f"| pod `{pod}` | create | the new version of copy {pod[:-2]} (configMap api-config changed)" in pending.output
    assert "containers[api].configMaps[api-config]" in pending.output
    for pod in ("kv", "web-pod", "svclb-web"):
        assert f"| pod `{pod}` | up to date |" in pending.output
    n = shop.visits()
    applied = shop.run("apply", "--wait", "--timeout", "120", str(shop.manifests))
    assert applied.exit_code == 0, applied.output + applied.stderr
    body = shop.page(until=lambda b: "says howdy" in b)
    assert visit(body) == n + 1, body
    after = containers(shop.podman)
    kept = {name for name in before if not name.startswith("api-")}
    assert {name: after.get(name) for name in kept} == {name: before[name] for name in kept}
    assert not any(before.get(name) == cid for name, cid in after.items() if name.startswith("api-pod") and "infra" not in name)
    assert shop.run("diff", str(shop.manifests)).exit_code == 0


def test_an_image_that_cannot_be_pulled_changes_nothing_and_says_which(shop):
    before = containers(shop.podman)
    shop.edit("api.yaml", "image: docker.io/library/busybox:latest", "image: docker.io/library/busybox:1.99-missing")
    try:
        failed = shop.run("apply", "--wait", "--timeout", "60", "--rollback-on-failure", str(shop.manifests))
        assert failed.exit_code == 1, failed.output + failed.stderr
        assert "docker.io/library/busybox:1.99-missing" in failed.stderr and "api" in failed.stderr
        assert containers(shop.podman) == before, "nothing was changed"
        assert "says howdy" in shop.page()
    finally:
        shop.edit("api.yaml", "image: docker.io/library/busybox:1.99-missing", "image: docker.io/library/busybox:latest")


def test_a_rollout_that_never_becomes_ready_is_rolled_back_and_the_old_copies_serve_throughout(shop):
    before = containers(shop.podman)
    shop.edit("api.yaml", "path: /cgi-bin/healthz", "path: /cgi-bin/ready")  # a 404: never ready
    try:
        # --timeout is the rollback's wait for the old copies too: 8 s failed it once in CI at load 10 (Podman 4.3)
        failed = shop.run("apply", "--wait", "--timeout", "30", "--rollback-on-failure", "-o", "json", str(shop.manifests))
        assert failed.exit_code == 1, failed.output + failed.stderr
        result = json.loads(failed.output)
        assert result["rollback"]["outcome"] == "restored", (result["rollback"], result["result"], failed.stderr)
        assert "stalled" in result["rollback"]["reason"] and "/cgi-bin/ready" in result["rollback"]["reason"]
        # the pods of the project that serve were not touched (not even reconnected to the network)
        assert "web-pod" not in failed.stderr and "kv" not in failed.stderr, failed.stderr
        # a surge never touched the old copies: the same containers serve, the new copies are gone
        assert containers(shop.podman) == before
        assert "says howdy" in shop.page()
        outcomes = [r["outcome"] for r in json.loads(shop.run("history", "-o", "json").output)["records"][:2]]
        assert outcomes == ["rolled-back", "failed"]
        assert shop.run("diff", str(shop.manifests)).exit_code == 2, "the manifests' change is still pending"
    finally:
        shop.edit("api.yaml", "path: /cgi-bin/ready", "path: /cgi-bin/healthz")
    assert shop.run("diff", str(shop.manifests)).exit_code == 0


def test_stop_then_start_brings_the_same_containers_back(shop):
    before = containers(shop.podman)
    n = shop.visits()
    stopped = shop.run("stop", "--project", PROJECT)
    assert stopped.exit_code == 0, stopped.output + stopped.stderr
    with pytest.raises(OSError):
        urllib.request.urlopen(shop.url(), timeout=5)
    assert shop.run("diff", str(shop.manifests)).exit_code == 0, "a pod stopped on purpose is no drift"
    started = shop.run("start", "--project", PROJECT, "--timeout", "120")
    assert started.exit_code == 0, started.output + started.stderr
    assert visit(shop.page()) == n + 1
    assert containers(shop.podman) == before


def test_after_a_reboot_the_boot_unit_brings_the_shop_back_with_its_data(shop):
    n = shop.visits()
    before = containers(shop.podman)
    # The reboot: every container stops, the service goes away and comes back.
    shop.podman.podman("stop", "--all", "-t", "1")
    sandbox.stop_service(shop.podman.state)
    sandbox.start_service(shop.podman.state)
    argv, env = unit_command(BOOT_UNITS[0], shop.podman.url)
    env["PYTHONPATH"] = str(EXAMPLE.parents[1])  # this checkout's podspec (the venv's is installed from another)
    done = subprocess.run(argv, env={**os.environ, **shop.podman.env(), **env}, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    body = shop.page()
    assert visit(body) == n + 1, body  # the store kept its data
    assert shop.podman.podman("exec", "kv-kv", "cat", "/data/init-runs").stdout == "seeded\n", "the init container ran once"
    assert containers(shop.podman) == before
    assert shop.run("diff", str(shop.manifests)).exit_code == 0
