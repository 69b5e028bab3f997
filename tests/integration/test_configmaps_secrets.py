"""ConfigMaps and Secrets against the private Podman: values reach the containers, a Secret's
value shows nowhere else, and a changed key recreates exactly the containers that read it."""

from __future__ import annotations

import base64
import json

import pytest
import yaml
from typer.testing import CliRunner

from podspec.cli import app
from tests.integration.manifests import ids, podspec, write

pytestmark = pytest.mark.podman

SECRET = "s3cr3t-Value-9f2b"  # a value to look for everywhere
TOKEN = "tok-7Qx-stringdata"


def hides_secret_env(podman) -> bool:
    """Podman 5.3 and later keep env values from secrets out of `podman inspect`; podspec refuses
    such env on older ones (see test_secret_env_is_refused_where_inspect_would_show_it)."""
    version = podman.podman("version", "--format", "{{.Client.Version}}").stdout.strip()
    return tuple(int(p) for p in version.split(".")[:2]) >= (5, 3)


SECRET_ENV = """\
        - name: DB_PASSWORD
          valueFrom: {secretKeyRef: {name: db, key: password}}
      envFrom:
        - prefix: DB_
          secretRef: {name: db}
"""


def manifest(level: str = "debug", secret: str = SECRET, greeting: str = "hello", secret_env: bool = True) -> str:
    encoded = base64.b64encode(secret.encode()).decode()
    from_secret = SECRET_ENV if secret_env else ""
    return f"""\
apiVersion: v1
kind: ConfigMap
metadata:
  name: app-config
data:
  LOG_LEVEL: {level}
  GREETING: {greeting}
  index.html: "<h1>from a ConfigMap</h1>"
---
apiVersion: v1
kind: Secret
metadata:
  name: db
type: Opaque
data:
  password: {encoded}
stringData:
  token: {TOKEN}
---
apiVersion: v1
kind: Pod
metadata:
  name: shop
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: reader
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sleep", "100000"]
      env:
        - name: LEVEL
          valueFrom: {{configMapKeyRef: {{name: app-config, key: LOG_LEVEL}}}}
        - name: POD_NAME
          valueFrom: {{fieldRef: {{fieldPath: metadata.name}}}}
{from_secret}      volumeMounts:
        - {{name: cfg, mountPath: /etc/app}}
        - {{name: creds, mountPath: /run/creds, readOnly: true}}
    - name: greeter
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sleep", "100000"]
      env:
        - name: GREETING
          valueFrom: {{configMapKeyRef: {{name: app-config, key: GREETING}}}}
    - name: plain
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sleep", "100000"]
  volumes:
    - name: cfg
      configMap:
        name: app-config
        items:
          - {{key: index.html, path: html/index.html, mode: 0600}}
    - name: creds
      secret:
        secretName: db
        defaultMode: 0400
"""


@pytest.fixture
def secrets_cleared(podman):
    """The sandbox's purge leaves Podman secrets: remove them after each test."""
    yield podman
    podman.podman("secret", "rm", "--all", check=False)


def value_secrets(podman, field: str = "{{.Name}}") -> list[str]:
    """The Podman secrets holding values (not the apply history's records, which are secrets too)."""
    listed = podman.podman("secret", "ls", "--format", "{{.Name}} " + field).stdout.splitlines()
    return [line.split()[1] for line in listed if line.strip() and not line.startswith("podspec-history-")]


def exec_out(podman, container: str, *command: str) -> str:
    return podman.podman("exec", container, *command).stdout


def test_values_reach_the_containers_and_the_secret_shows_nowhere_else(secrets_cleared, tmp_path):
    podman = secrets_cleared
    secret_env = hides_secret_env(podman)
    path = write(tmp_path, manifest(secret_env=secret_env))
    outputs = []
    for args in (("diff", path), ("diff", "-o", "json", path), ("apply", path), ("apply", "-o", "json", path),
                 ("diff", path), ("status", "-o", "json"), ("status",)):
        result = podspec(podman, *args)
        assert result.exit_code in (0, 2), result.stderr
        outputs += [result.output, result.stderr]

    env = exec_out(podman, "shop-reader", "env")
    assert "LEVEL=debug" in env and "POD_NAME=shop" in env
    if secret_env:
        assert f"DB_PASSWORD={SECRET}" in env and f"DB_password={SECRET}" in env and f"DB_token={TOKEN}" in env
    assert exec_out(podman, "shop-reader", "cat", "/etc/app/html/index.html") == "<h1>from a ConfigMap</h1>"
    assert exec_out(podman, "shop-reader", "cat", "/run/creds/password") == SECRET
    assert exec_out(podman, "shop-reader", "cat", "/run/creds/token") == TOKEN
    assert exec_out(podman, "shop-reader", "stat", "-c", "%a", "/etc/app/html/index.html", "/run/creds/password").split() == ["600", "400"]
    assert "GREETING=hello" in exec_out(podman, "shop-greeter", "env")

    # Nowhere else: podman inspect of every container and pod, the labels, the secrets' metadata,
    # and everything podspec printed.
    names = list(ids(podman))
    inspected = podman.podman("inspect", *names).stdout + podman.podman("pod", "inspect", "shop").stdout
    secrets = value_secrets(podman, "{{.ID}}")
    assert len(secrets) == 3  # one per key: password, token, and the ConfigMap file
    inspected += podman.podman("secret", "inspect", *secrets).stdout
    labels = json.dumps([c["Config"]["Labels"] for c in json.loads(podman.podman("inspect", *names).stdout)])
    for value in (SECRET, TOKEN, base64.b64encode(SECRET.encode()).decode()):
        assert value not in inspected
        assert value not in labels
        assert all(value not in text for text in outputs)
    # The secrets are podspec's: labelled like everything else.
    for secret in json.loads(podman.podman("secret", "inspect", *secrets).stdout):
        assert secret["Spec"]["Labels"]["io.podspec.managed-by"] == "podspec"
        assert secret["Spec"]["Labels"]["io.podspec.project"] == "itest"


def test_a_changed_key_recreates_exactly_the_containers_that_read_it(secrets_cleared, tmp_path):
    podman = secrets_cleared
    secret_env = hides_secret_env(podman)
    path = write(tmp_path, manifest(secret_env=secret_env))
    assert podspec(podman, "apply", path).exit_code == 0
    before = ids(podman)
    secrets_before = set(value_secrets(podman))

    write(tmp_path, manifest(level="info", secret_env=secret_env))
    result = podspec(podman, "diff", "-o", "json", path)
    assert result.exit_code == 2
    data = json.loads(result.output)
    [pod] = data["pods"]
    assert [(c["name"], c["action"], c["cause"]) for c in pod["containers"]] == [
        ("shop-reader", "recreate", "configMap app-config changed")
    ]
    assert data["secrets"] == []  # env values of a ConfigMap are plain env: no Podman secret changes
    text = podspec(podman, "apply", path)
    assert text.exit_code == 0, text.stderr
    assert "recreate: configMap app-config changed" in text.output
    after = ids(podman)
    assert after["shop-reader"] != before["shop-reader"]
    assert {k: v for k, v in after.items() if k != "shop-reader"} == {k: v for k, v in before.items() if k != "shop-reader"}
    assert "LEVEL=info" in exec_out(podman, "shop-reader", "env")

    # A new Secret value: a new Podman secret, the reader recreated, the old secret removed.
    write(tmp_path, manifest(level="info", secret="an0ther-Value", secret_env=secret_env))
    text = podspec(podman, "apply", path)
    assert text.exit_code == 0, text.stderr
    assert "recreate: secret db changed" in text.output
    assert "an0ther-Value" not in text.output
    final = ids(podman)
    assert final["shop-greeter"] == before["shop-greeter"] and final["shop-plain"] == before["shop-plain"]
    assert exec_out(podman, "shop-reader", "cat", "/run/creds/password") == "an0ther-Value"
    secrets_after = set(value_secrets(podman))
    assert len(secrets_after) == len(secrets_before)
    assert len(secrets_after - secrets_before) == 1  # the password's new value

    assert podspec(podman, "diff", path).exit_code == 0
    assert podspec(podman, "delete", path).exit_code == 0
    assert value_secrets(podman) == []


def test_someone_elses_secret_is_never_touched(secrets_cleared, tmp_path):
    podman = secrets_cleared
    podman.podman("secret", "create", "handmade", "/etc/hostname")
    path = write(tmp_path, manifest(secret_env=hides_secret_env(podman)))
    assert podspec(podman, "apply", path).exit_code == 0
    assert podspec(podman, "delete", path).exit_code == 0
    assert value_secrets(podman) == ["handmade"]


def test_secret_env_is_refused_where_inspect_would_show_it(secrets_cleared, tmp_path):
    podman = secrets_cleared
    if hides_secret_env(podman):
        pytest.skip("this Podman hides env values from secrets in `podman inspect`")
    path = write(tmp_path, manifest())
    for command in ("diff", "apply"):
        result = podspec(podman, command, path)
        assert result.exit_code == 1
        assert "shop/reader takes DB_PASSWORD, DB_password, DB_token from a Secret" in result.stderr
        assert "needs Podman 5.3 or newer" in result.stderr and "mount the Secret as a volume" in result.stderr
        assert SECRET not in result.output + result.stderr
    assert list(ids(podman)) == []
    assert value_secrets(podman) == []


def test_export_writes_the_references_and_reapplies_beside_the_documents(secrets_cleared, tmp_path):
    podman = secrets_cleared
    secret_env = hides_secret_env(podman)
    text = manifest(secret_env=secret_env)
    assert podspec(podman, "apply", write(tmp_path, text)).exit_code == 0

    exported = CliRunner().invoke(app, ["export", "shop", "-o", str(tmp_path / "shop.yaml"), "--url", podman.url])
    assert exported.exit_code == 0, exported.stderr
    assert "pod shop reads ConfigMap app-config: its document is not exported" in exported.stderr
    assert "pod shop reads Secret db: its document is not exported" in exported.stderr
    written = (tmp_path / "shop.yaml").read_text()
    for value in (SECRET, TOKEN, base64.b64encode(SECRET.encode()).decode(), "debug"):
        assert value not in written, value  # references, not values
    pod = yaml.safe_load(written)
    reader = next(c for c in pod["spec"]["containers"] if c["name"] == "reader")
    env = {e["name"]: e.get("valueFrom") for e in reader["env"]}
    assert env["LEVEL"] == {"configMapKeyRef": {"name": "app-config", "key": "LOG_LEVEL"}}
    if secret_env:
        assert env["DB_PASSWORD"] == {"secretKeyRef": {"name": "db", "key": "password"}}
        assert env["DB_token"] == {"secretKeyRef": {"name": "db", "key": "token"}}
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["cfg"]["configMap"] == {"name": "app-config", "items": [{"key": "index.html", "path": "html/index.html",
                                                                            "mode": 0o600}]}
    assert volumes["creds"]["secret"]["secretName"] == "db"

    # Without its ConfigMap and Secret the export is not complete; beside them, nothing changes.
    assert podspec(podman, "diff", str(tmp_path / "shop.yaml")).exit_code == 1
    documents = text.split("---\napiVersion: v1\nkind: Pod")[0]
    (tmp_path / "sources.yaml").write_text(documents)
    diff = podspec(podman, "diff", str(tmp_path / "shop.yaml"), str(tmp_path / "sources.yaml"))
    assert diff.exit_code == 0, diff.output + diff.stderr


SECRET_REFERENCE = """\
        - name: TOKEN
          valueFrom: {secretKeyRef: {name: db, key: token}}
"""


def expanding(greeting: str, secret: bool = False) -> str:
    documents = f"""\
apiVersion: v1
kind: Secret
metadata: {{name: db}}
stringData: {{token: {TOKEN}}}
---
""" if secret else ""
    return documents + f"""\
apiVersion: v1
kind: ConfigMap
metadata: {{name: words}}
data: {{GREETING: {greeting}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: expand}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: echo
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: [sh, -c]
      # The shell gets the expanded text: single quotes keep it from running what stays $(...).
      args: ["echo port=$(PORT) greeting=$(GREETING) literal='$$(PORT)' missing='$(NOPE)'{" token='$(TOKEN)'" if secret else ""}; sleep 3600"]
      env:
        - {{name: PORT, value: "8080"}}
        - name: GREETING
          valueFrom: {{configMapKeyRef: {{name: words, key: GREETING}}}}
{SECRET_REFERENCE if secret else ""}"""


def logged(podman, container: str) -> str:
    """The container's first line of output, once it has written it (polled: the shell writes it
    after start, in its own time)."""
    import time

    deadline = time.monotonic() + 30
    while True:
        out = podman.podman("logs", container).stdout.strip()
        if out or time.monotonic() > deadline:
            return out
        time.sleep(0.2)


def test_references_in_args_are_expanded_as_kubernetes_expands_them(secrets_cleared, tmp_path):
    """$(VAR) from a literal value and a ConfigMap, $$( as the escape, an unknown name as written;
    the manifest's text is what the diff and export see, and a new ConfigMap value a new command."""
    podman = secrets_cleared
    path = write(tmp_path, expanding("hello"))
    applied = podspec(podman, "apply", path)
    assert applied.exit_code == 0, applied.stderr
    assert "$(" not in applied.stderr  # no warning: nothing refers to a Secret
    text = "port=8080 greeting=hello literal=$(PORT) missing=$(NOPE)"
    assert logged(podman, "expand-echo") == text
    assert podspec(podman, "diff", path).exit_code == 0
    before = ids(podman)["expand-echo"]

    exported = CliRunner().invoke(app, ["export", "expand", "-o", str(tmp_path / "expand.yaml"), "--url", podman.url])
    assert exported.exit_code == 0, exported.stderr
    echo = yaml.safe_load((tmp_path / "expand.yaml").read_text())["spec"]["containers"][0]
    assert echo["args"] == ["echo port=$(PORT) greeting=$(GREETING) literal='$$(PORT)' missing='$(NOPE)'; sleep 3600"]

    write(tmp_path, expanding("bonjour"))
    changed = podspec(podman, "apply", path)
    assert changed.exit_code == 0, changed.stderr
    assert "recreate: configMap words changed" in changed.output
    assert ids(podman)["expand-echo"] != before
    assert logged(podman, "expand-echo") == text.replace("hello", "bonjour")
    assert podspec(podman, "diff", path).exit_code == 0


def test_a_reference_to_a_secret_stays_as_written_with_a_warning(secrets_cleared, tmp_path):
    """podspec never puts a Secret's value on the command line (podman inspect's Args, Cmd): the
    reference stays as written, a warning says so and how to read it instead; --strict refuses it."""
    podman = secrets_cleared
    if not hides_secret_env(podman):
        pytest.skip("this Podman shows env values from secrets in `podman inspect`: podspec refuses such env here")
    path = write(tmp_path, expanding("hello", secret=True))
    strict = podspec(podman, "apply", "--strict", path)
    assert strict.exit_code == 1 and "$(TOKEN) refers to TOKEN, whose value comes from a Secret" in strict.stderr
    assert podman.podman("ps", "-a", "-q", "--filter", "name=expand-echo").stdout.strip() == ""  # nothing created
    applied = podspec(podman, "apply", path)
    assert applied.exit_code == 0, applied.stderr
    assert "$(TOKEN) refers to TOKEN, whose value comes from a Secret" in applied.stderr
    assert "exec app --password=" in applied.stderr
    assert logged(podman, "expand-echo") == "port=8080 greeting=hello literal=$(PORT) missing=$(NOPE) token=$(TOKEN)"
    assert f"TOKEN={TOKEN}" in exec_out(podman, "expand-echo", "env")  # the container has it, in its env
    inspected = podman.podman("inspect", "expand-echo").stdout
    assert TOKEN not in inspected and TOKEN not in applied.output + applied.stderr
    assert podspec(podman, "diff", path).exit_code == 0
