"""Safe rollouts against the private Podman (both engines): the apply history survives Podman's
prunes and holds no secret value; `podspec rollback` and `apply --wait --rollback-on-failure` put
back what ran before (reconcile/history.py, reconcile/rollback.py, run/rollback.py)."""

from __future__ import annotations

import json

import pytest

from tests.integration.manifests import podspec, sleeper, write

pytestmark = pytest.mark.podman

SECRETS = """\
apiVersion: v1
kind: Secret
metadata:
  name: db
stringData:
  password: s3cr3t-in-a-secret
---
apiVersion: v1
kind: Pod
metadata:
  name: keeper
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: main
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sleep", "100000"]
      env:
        - {name: DB_PASSWORD, value: l1teral-s3cret}
      volumeMounts:
        - {name: db, mountPath: /etc/db, readOnly: true}
  volumes:
    - name: db
      secret: {secretName: db}
"""


def history(podman) -> list[dict]:
    listed = podspec(podman, "history", "-o", "json")
    assert listed.exit_code == 0, listed.stderr
    return json.loads(listed.output)["records"]


def test_the_history_survives_every_prune_and_holds_no_secret_value(podman, tmp_path):
    manifest = write(tmp_path, SECRETS)
    assert podspec(podman, "apply", manifest, "--revision", "one").exit_code == 0
    write(tmp_path, SECRETS + "---\n" + sleeper("second"))
    assert podspec(podman, "apply", manifest, "--revision", "two").exit_code == 0
    before = history(podman)
    assert [(r["seq"], r["revision"], r["restorable"]) for r in before] == [(2, "two", True), (1, "one", True)]

    podman.podman("pod", "stop", "second", "-t", "1")  # a stopped pod and its containers: what prunes remove
    podman.podman("volume", "prune", "--force")
    podman.podman("container", "prune", "--force")
    podman.podman("pod", "prune", "--force")
    podman.podman("system", "prune", "--force", "--volumes")
    assert "second" not in podman.podman("pod", "ps", "--format", "{{.Name}}").stdout  # the prunes did prune
    assert history(podman) == before

    names = podman.podman("secret", "ls", "--format", "{{.Name}}").stdout.split()
    records = [n for n in names if n.startswith("podspec-history-")]
    assert len(records) == 2
    for name in records:
        text = podman.podman("secret", "inspect", name).stdout
        assert "keeper" in text  # the record holds the pods...
        assert "s3cr3t-in-a-secret" not in text and "l1teral-s3cret" not in text  # ... never a secret's value


def server(name: str, page: str, port: int, image: str = "docker.io/library/busybox:latest", broken: bool = False) -> str:
    """A pod serving `page` on `port`, ready once /www/ready exists; `broken`: it never is."""
    ready = "" if broken else " && touch /www/ready"
    run = f"mkdir -p /www && echo {page} > /www/index.html{ready} && exec httpd -f -p 8080 -h /www"
    return f"""\
apiVersion: v1
kind: Pod
metadata:
  name: {name}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: web
      image: {image}
      imagePullPolicy: IfNotPresent
      command: ["sh", "-c", "{run}"]
      ports:
        - {{containerPort: 8080, hostPort: {port}}}
      readinessProbe:
        exec: {{command: ["cat", "/www/ready"]}}
        periodSeconds: 1
"""


def test_rollback_puts_the_previous_revision_back_by_image_id_and_keeps_volumes(podman, tmp_path):
    from tests.conftest import fetch, free_port

    port = free_port()
    podman.podman("tag", "docker.io/library/busybox:latest", "localhost/rollme:1")
    try:
        manifest = write(tmp_path, server("roller", "first", port, image="localhost/rollme:1"))
        assert podspec(podman, "apply", manifest, "--revision", "r1").exit_code == 0
        fetch(f"http://127.0.0.1:{port}/", until=lambda body: "first" in body)
        write(tmp_path, server("roller", "second", port, image="localhost/rollme:1") + "---\n" + sleeper("roller-extra"))
        assert podspec(podman, "apply", manifest, "--revision", "r2").exit_code == 0
        fetch(f"http://127.0.0.1:{port}/", until=lambda body: "second" in body)
        busybox = podman.podman("image", "inspect", "localhost/rollme:1", "--format", "{{.Id}}").stdout.strip()
        podman.podman("tag", "docker.io/library/alpine:latest", "localhost/rollme:1")  # the tag moves

        dry = podspec(podman, "rollback", "--dry-run")
        assert dry.exit_code == 2, dry.stderr
        assert "roller-extra" in dry.output and "recreate" in dry.output.lower()
        done = podspec(podman, "rollback", "--wait", "--timeout", "30", "-o", "json")
        assert done.exit_code == 0, done.stderr
        result = json.loads(done.output)
        assert result["restored"] == 1 and result["revision"] == "r1" and len(result["pinned"]) == 1
        fetch(f"http://127.0.0.1:{port}/", until=lambda body: "first" in body)
        image = podman.podman("container", "inspect", "roller-web", "--format", "{{.Image}}").stdout.strip()
        assert image == busybox  # the bytes that ran then, not what the tag names now
        assert "roller-extra" not in podman.podman("pod", "ps", "--format", "{{.Name}}").stdout
        assert [r["outcome"] for r in history(podman)][:1] == ["rolled-back"]
        assert podspec(podman, "diff", manifest).exit_code == 2  # the files' change shows as pending
    finally:
        podman.podman("rmi", "--force", "localhost/rollme:1", check=False)


def test_apply_rolls_back_a_version_that_never_becomes_ready(podman, tmp_path):
    from tests.conftest import fetch, free_port

    port = free_port()
    manifest = write(tmp_path, server("gated", "good", port))
    assert podspec(podman, "apply", manifest, "--revision", "good").exit_code == 0
    fetch(f"http://127.0.0.1:{port}/", until=lambda body: "good" in body)

    write(tmp_path, server("gated", "bad", port, broken=True))
    failed = podspec(podman, "apply", manifest, "--revision", "bad", "--wait", "--timeout", "5",
                     "--rollback-on-failure", "-o", "json")
    assert failed.exit_code == 1
    result = json.loads(failed.output)
    assert result["result"]["status"] == "failed" and "gated-web" in result["result"]["error"]
    assert result["rollback"]["outcome"] == "restored" and result["rollback"]["restored"] == ["gated"]
    assert fetch(f"http://127.0.0.1:{port}/", until=lambda body: "good" in body)  # the previous version serves
    records = history(podman)
    assert [(r["outcome"], r["revision"]) for r in records[:3]] == [
        ("rolled-back", ""), ("failed", "bad"), ("applied", "good")]
    assert podspec(podman, "diff", manifest).exit_code == 2  # the manifests' change is pending

    text = podspec(podman, "apply", manifest, "--wait", "--timeout", "5", "--rollback-on-failure")
    assert text.exit_code == 1 and "rolled back" in text.stderr and "restored gated" in text.stderr
