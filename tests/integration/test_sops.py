"""Secrets kept in git, encrypted with SOPS and age, against the private Podman (both engines): the real
sops and age-keygen, the value reaching the container and nowhere else, changes and re-encryptions,
every way decryption fails changing nothing, Secrets kept on the host, export, and the sync agent."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from podspec.cli import app
from tests.integration.manifests import Result, ids, podspec
from tests.integration.sshd import Sshd, sshd  # noqa: F401 - the fixture
from tests.integration.sync_helpers import Repo, git_env, once, sync_argv, sync_env
from tests.sopskit import age_key, encrypt, sops

pytestmark = pytest.mark.podman

VALUE = "Pa55-sops-7Hq2x"  # looked for everywhere it must not be
NEW_VALUE = "N3w-sops-Val-4kd"
ROOT = Path(__file__).resolve().parents[2]


def secret(value: str = VALUE) -> str:
    return f"""\
apiVersion: v1
kind: Secret
metadata:
  name: db
type: Opaque
stringData:
  password: {value}
"""


POD = """\
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
      volumeMounts:
        - {name: creds, mountPath: /run/creds, readOnly: true}
    - name: other
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sleep", "100000"]
  volumes:
    - name: creds
      secret:
        secretName: db
"""


@pytest.fixture
def secrets_cleared(podman):
    yield podman
    podman.podman("secret", "rm", "--all", check=False)


@pytest.fixture
def repo_files(tmp_path):
    """manifests/ with the encrypted Secret and the pod; the host's key."""
    key = age_key(tmp_path, "host.key")
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    (manifests / "db.yaml").write_text(encrypt(secret(), key))
    (manifests / "pod.yaml").write_text(POD)
    return manifests, key


def read_in(podman, container: str, path: str) -> str:
    return podman.podman("exec", container, "cat", path).stdout


def everything_on_the_host(podman) -> str:
    """What Podman shows of every container, pod, volume, network and secret; and, where Podman can show a
    secret's content (5.x: --showsecret), that of podspec's history records (Podman secrets)."""
    names = list(ids(podman))
    text = podman.podman("inspect", *names).stdout if names else ""
    pods = podman.podman("pod", "ps", "-q").stdout.split()
    text += podman.podman("pod", "inspect", *pods).stdout if pods else ""
    volumes = podman.podman("volume", "ls", "-q").stdout.split()
    text += podman.podman("volume", "inspect", *volumes).stdout if volumes else ""
    networks = podman.podman("network", "ls", "-q").stdout.split()
    text += podman.podman("network", "inspect", *networks).stdout if networks else ""
    secrets = podman.podman("secret", "ls", "--format", "{{.ID}}").stdout.split()
    text += podman.podman("secret", "inspect", *secrets).stdout if secrets else ""
    history = [n for n in podman.podman("secret", "ls", "--format", "{{.Name}}").stdout.split() if n.startswith("podspec-history-")]
    if history and podman.engine == "podman5":
        text += podman.podman("secret", "inspect", "--showsecret", *history).stdout
    return text


def test_an_encrypted_secret_reaches_its_reader_and_shows_nowhere_else(secrets_cleared, repo_files, tmp_path, monkeypatch):
    podman = secrets_cleared
    manifests, key = repo_files
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setenv("TMPDIR", str(temporary))  # sops and podspec: no file there may outlive the call
    assert VALUE not in (manifests / "db.yaml").read_text()

    validated = CliRunner().invoke(app, ["validate", str(manifests)])  # no key needed
    checked = Result(validated.exit_code, validated.stdout, validated.stderr)
    assert checked.exit_code == 0, checked.stderr
    assert f"{manifests}/db.yaml: Secret db: SOPS-encrypted" in checked.output

    plan = tmp_path / "plan.json"
    outputs = [checked.output, checked.stderr]
    for args in (("diff", str(manifests)), ("diff", "-o", "json", str(manifests)), ("diff", "-o", "markdown", str(manifests)),
                 ("diff", "--save-plan", str(plan), str(manifests)), ("apply", "--plan", str(plan), str(manifests)),
                 ("diff", str(manifests)), ("apply", "-o", "json", str(manifests)), ("status",), ("status", "-o", "json"),
                 ("history",), ("history", "-o", "json")):
        result = podspec(podman, *args, "--age-key-file", str(key.file)) if args[0] in ("diff", "apply") \
            else podspec(podman, *args)
        assert result.exit_code in (0, 2), (args, result.stderr)
        outputs += [result.output, result.stderr]
    assert read_in(podman, "shop-reader", "/run/creds/password") == VALUE

    assert all(VALUE not in text for text in outputs)
    assert VALUE not in plan.read_text()
    assert VALUE not in everything_on_the_host(podman)
    leftovers = [p for p in temporary.rglob("*") if p.is_file() and VALUE.encode() in p.read_bytes()]
    assert leftovers == []


def test_a_new_value_recreates_its_reader_and_a_new_data_key_changes_nothing(secrets_cleared, repo_files, tmp_path,
                                                                              monkeypatch):
    podman = secrets_cleared
    manifests, key = repo_files
    with_key = ("--age-key-file", str(key.file))
    assert podspec(podman, "apply", str(manifests), *with_key).exit_code == 0
    before = ids(podman)

    # The host's key found as sops finds it, without the option: $SOPS_AGE_KEY_FILE, $SOPS_AGE_KEY.
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.config/sops/age/keys.txt of the machine's
    for name, value in (("SOPS_AGE_KEY_FILE", str(key.file)), ("SOPS_AGE_KEY", key.file.read_text().splitlines()[-1])):
        with monkeypatch.context() as env:
            env.delenv("SOPS_AGE_KEY_FILE", raising=False)
            env.setenv(name, value)
            found = podspec(podman, "diff", str(manifests))
            assert found.exit_code == 0, (name, found.output, found.stderr)
    monkeypatch.delenv("SOPS_AGE_KEY_FILE", raising=False)
    assert podspec(podman, "diff", str(manifests)).exit_code == 1  # and without any: refused

    encrypted = (manifests / "db.yaml").read_text()
    sops("--rotate", "--in-place", str(manifests / "db.yaml"), key=key)  # a new data key: every byte differs
    assert (manifests / "db.yaml").read_text() != encrypted
    unchanged = podspec(podman, "diff", str(manifests), *with_key)
    assert unchanged.exit_code == 0, unchanged.output
    again = podspec(podman, "apply", str(manifests), *with_key)
    assert again.exit_code == 0 and again.output.rstrip().endswith("Nothing to do.")
    assert ids(podman) == before

    (manifests / "db.yaml").write_text(encrypt(secret(NEW_VALUE), key))
    changed = podspec(podman, "apply", str(manifests), *with_key)
    assert changed.exit_code == 0, changed.stderr
    assert "recreate: secret db changed" in changed.output and NEW_VALUE not in changed.output + changed.stderr
    after = ids(podman)
    assert after["shop-reader"] != before["shop-reader"] and after["shop-other"] == before["shop-other"]
    assert read_in(podman, "shop-reader", "/run/creds/password") == NEW_VALUE


def test_no_key_a_wrong_key_or_a_changed_file_changes_nothing(secrets_cleared, repo_files, tmp_path, monkeypatch):
    podman = secrets_cleared
    manifests, key = repo_files
    monkeypatch.delenv("SOPS_AGE_KEY_FILE", raising=False)
    monkeypatch.delenv("SOPS_AGE_KEY", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.config/sops/age/keys.txt of the machine's
    other = age_key(tmp_path, "other.key")
    db = manifests / "db.yaml"
    good = db.read_text()
    lines = good.splitlines()
    i = next(i for i, line in enumerate(lines) if line.strip().startswith("password:"))
    start = lines[i].index("data:") + 5
    lines[i] = lines[i][:start] + ("A" if lines[i][start] != "A" else "B") + lines[i][start + 1:]
    tampered = "\n".join(lines) + "\n"

    for text, flags, said in ((good, (), "no key for it was found"),
                              (good, ("--age-key-file", str(other.file)), "the age key given is not one of its recipients"),
                              (tampered, ("--age-key-file", str(key.file)), "it was changed after it was encrypted")):
        db.write_text(text)
        for command in ("diff", "apply"):
            result = podspec(podman, command, str(manifests), *flags)
            assert result.exit_code == 1, (said, result.output)
            assert f"{db}: cannot decrypt this SOPS file: {said}" in result.stderr
            assert VALUE not in result.output + result.stderr
        assert ids(podman) == {} and podman.podman("secret", "ls", "-q").stdout.split() == []


def test_a_secret_kept_on_the_host_is_read_as_it_is_and_never_touched(secrets_cleared, tmp_path):
    podman = secrets_cleared
    pod = POD.replace("  name: shop\n", "  name: shop\n  annotations:\n    podspec.io/host-secrets: db, app-conf\n", 1) \
             .replace("        secretName: db\n", "        secretName: db\n        items: [{key: password, path: password}]\n") \
             .replace("        - {name: creds, mountPath: /run/creds, readOnly: true}\n",
                      "        - {name: creds, mountPath: /run/creds, readOnly: true}\n"
                      "        - {name: conf, mountPath: /etc/app, readOnly: true}\n") \
        + "    - name: conf\n      configMap:\n        name: app-conf\n        items: [{key: app.conf, path: app.conf}]\n"
    path = tmp_path / "pod.yaml"
    path.write_text(pod)
    conf_file = tmp_path / "app.conf"
    conf_file.write_text("listen 8080\n")
    podman.podman("secret", "create", "app-conf", str(conf_file))  # a ConfigMap kept on the host

    missing = podspec(podman, "apply", str(path))
    assert missing.exit_code == 1
    assert "Secret db is to be kept on the host (podspec.io/host-secrets of pod shop), and there is no Podman secret " \
           "of that name: create it with `podman secret create db FILE`" in missing.output + missing.stderr
    assert ids(podman) == {}

    value_file = tmp_path / "value"
    value_file.write_text(VALUE)
    podman.podman("secret", "create", "db", str(value_file))
    made = json.loads(podman.podman("secret", "inspect", "db").stdout)[0]
    applied = podspec(podman, "apply", str(path))
    assert applied.exit_code == 0, applied.stderr
    assert "= secret db: kept on the host" in applied.output and "= secret app-conf: kept on the host" in applied.output
    assert read_in(podman, "shop-reader", "/run/creds/password") == VALUE
    assert read_in(podman, "shop-reader", "/etc/app/app.conf") == "listen 8080\n"
    assert podspec(podman, "diff", str(path)).exit_code == 0

    # Made again by hand (a new ID): exactly its reader is recreated and reads the new value.
    before = ids(podman)
    podman.podman("secret", "rm", "db")
    value_file.write_text(NEW_VALUE)
    podman.podman("secret", "create", "db", str(value_file))
    made = json.loads(podman.podman("secret", "inspect", "db").stdout)[0]
    again = podspec(podman, "apply", str(path))
    assert again.exit_code == 0 and "recreate: secret db changed" in again.output, again.output + again.stderr
    after = ids(podman)
    assert after["shop-reader"] != before["shop-reader"] and after["shop-other"] == before["shop-other"]
    assert read_in(podman, "shop-reader", "/run/creds/password") == NEW_VALUE

    assert podspec(podman, "delete", str(path)).exit_code == 0
    assert ids(podman) == {}
    [kept] = json.loads(podman.podman("secret", "inspect", "db").stdout)
    assert kept["ID"] == made["ID"] and kept["Spec"]["Labels"] == made["Spec"]["Labels"]
    assert podman.podman("secret", "inspect", "app-conf", check=False).returncode == 0  # kept too


def test_export_writes_the_reference_never_the_secret(secrets_cleared, repo_files):
    podman = secrets_cleared
    manifests, key = repo_files
    assert podspec(podman, "apply", str(manifests), "--age-key-file", str(key.file)).exit_code == 0
    for flags in ((), ("--show-secrets",)):
        exported = CliRunner().invoke(app, ["export", "shop", "--url", podman.url, *flags])
        assert exported.exit_code == 0, exported.stderr
        assert "secretName: db" in exported.stdout and "kind: Secret\n" not in exported.stdout
        assert VALUE not in exported.stdout + exported.stderr
    # The exported pod, beside the encrypted Secret already in git, is what runs: nothing to change.
    (manifests / "pod.yaml").write_text(exported.stdout)
    same = podspec(podman, "diff", str(manifests), "--age-key-file", str(key.file))
    assert same.exit_code == 0, same.output


def test_the_sync_agent_decrypts_with_the_hosts_key(secrets_cleared, repo_files, tmp_path):
    podman = secrets_cleared
    manifests, key = repo_files
    repo = Repo(tmp_path / "repo")
    repo.commit({"db.yaml": (manifests / "db.yaml").read_text(), "pod.yaml": POD}, "encrypted secret")
    state = tmp_path / "state"

    refused = once(podman, repo, state)  # no key on this "host"
    assert refused.returncode == 1
    assert "db.yaml: cannot decrypt this SOPS file" in refused.stderr and VALUE not in refused.stderr + refused.stdout
    assert ids(podman) == {}

    # The key where the systemd units say (Environment=SOPS_AGE_KEY_FILE=/etc/podspec/age/%i.key)
    done = subprocess.run(sync_argv(podman, repo, state, "--once"), capture_output=True, text=True, timeout=300,
                          env={**sync_env(repo), "SOPS_AGE_KEY_FILE": str(key.file)}, check=False)
    assert done.returncode == 0, done.stderr
    assert "SOPS_AGE_KEY_FILE=/etc/podspec/age/%i.key" in (ROOT / "packaging/systemd/podspec-sync@.service").read_text()
    assert read_in(podman, "shop-reader", "/run/creds/password") == VALUE
    assert VALUE not in done.stderr + done.stdout
    assert not any(VALUE.encode() in p.read_bytes() for p in Path(state).rglob("*") if p.is_file())


def test_encrypted_and_host_secrets_over_ssh(secrets_cleared, repo_files, sshd: Sshd, tmp_path):  # noqa: F811
    """Decryption happens where podspec runs (the key stays there); Podman on the far side of ssh://
    gets the value as a Podman secret, and a Secret kept on that host is read there."""
    podman = secrets_cleared
    manifests, key = repo_files
    value_file = tmp_path / "value"
    value_file.write_text(NEW_VALUE)
    podman.podman("secret", "create", "api-token", str(value_file))
    (manifests / "pod.yaml").write_text(
        POD.replace("  name: shop\n", "  name: shop\n  annotations: {podspec.io/host-secrets: api-token}\n", 1)
           .replace("        - {name: creds, mountPath: /run/creds, readOnly: true}\n",
                    "        - {name: creds, mountPath: /run/creds, readOnly: true}\n"
                    "        - {name: token, mountPath: /run/token, readOnly: true}\n")
        + "    - name: token\n      secret:\n        secretName: api-token\n        items: [{key: token, path: token}]\n")
    remote = ["--url", sshd.url(podman.state / "podman.sock"), "--identity", str(sshd.client_key)]
    env = sshd.env(PODSPEC_PROJECT="sopsssh")
    run = lambda *args: subprocess.run([str(Path(sys.executable).parent / "podspec"), *args], capture_output=True,
                                       text=True, env=env, timeout=300, check=False)

    applied = run("apply", str(manifests), "--age-key-file", str(key.file), *remote)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "= secret api-token: kept on the host" in applied.stdout
    assert VALUE not in applied.stdout + applied.stderr
    assert read_in(podman, "shop-reader", "/run/creds/password") == VALUE
    assert read_in(podman, "shop-reader", "/run/token/token") == NEW_VALUE
    again = run("diff", str(manifests), "--age-key-file", str(key.file), *remote)
    assert again.returncode == 0, again.stdout + again.stderr
    assert run("delete", str(manifests), "--age-key-file", str(key.file), *remote).returncode == 0
    left = podman.podman("secret", "ls", "--format", "{{.Name}}").stdout.split()
    assert [n for n in left if not n.startswith("podspec-history-")] == ["api-token"]  # history records stay


def _blocks(doc: str) -> list[str]:
    """The fenced code blocks of a markdown page, in order (their text, without the fences)."""
    return re.findall(r"^```[a-z]*\n(.*?)^```$", doc, flags=re.S | re.M)


def test_the_walkthrough_of_the_docs_works_as_written(secrets_cleared, tmp_path, monkeypatch):
    """docs/secrets-in-git.md, start to finish, its blocks run as written (bash, the real sops, age and
    git): make the keys, .sops.yaml, encrypt and commit, validate with no key, apply with the host's
    key only, rotate the data key (nothing changes), set a new value (its reader reads it). /etc/podspec
    stands in a temporary directory; `podspec` commands get the test's --url and --project."""
    podman = secrets_cleared
    doc = (ROOT / "docs" / "secrets-in-git.md").read_text()
    blocks = _blocks(doc)
    etc, home, nokey, work = tmp_path / "etc-podspec", tmp_path / "home", tmp_path / "host-home", tmp_path / "work"
    for d in (home, nokey, work):
        d.mkdir()
    env = {**git_env(home), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "SOPS_DISABLE_VERSION_CHECK": "1"}
    env = {k: v for k, v in env.items() if not k.startswith("SOPS_AGE")}

    def shell(script: str) -> str:
        done = subprocess.run(["bash", "-euo", "pipefail", "-c", script.replace("/etc/podspec", str(etc))], cwd=work,
                              env=env, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, (script, done.stdout, done.stderr)
        return done.stdout

    keys = next(b for b in blocks if "age-keygen -o ~/.config/sops/age/keys.txt" in b)
    shell("git init -q -b main . && " + keys)
    mine = subprocess.run(["age-keygen", "-y", str(home / ".config/sops/age/keys.txt")], capture_output=True, text=True,
                          check=True).stdout.strip()
    host_key = etc / "age/web.key"
    host = subprocess.run(["age-keygen", "-y", str(host_key)], capture_output=True, text=True, check=True).stdout.strip()
    assert oct(host_key.stat().st_mode & 0o777) == "0o600" and oct(host_key.parent.stat().st_mode & 0o777) == "0o700"
    rules = next(b for b in blocks if b.startswith("creation_rules:"))
    (work / ".sops.yaml").write_text(rules.replace("age1...your-key...", mine).replace("age1...the-host's-key...", host))
    shell(next(b for b in blocks if "sops --encrypt --in-place manifests/db-secret.yaml" in b))
    encrypted = (work / "manifests/db-secret.yaml").read_text()
    assert "correct-horse" not in encrypted and "password: ENC[AES256_GCM," in encrypted
    assert shell("git log --format=%s") == "db password, encrypted\n"

    monkeypatch.chdir(work)
    monkeypatch.setenv("HOME", str(nokey))  # the host: no key of its own but the one given
    for name in ("SOPS_AGE_KEY_FILE", "SOPS_AGE_KEY"):
        monkeypatch.delenv(name, raising=False)
    validated = CliRunner().invoke(app, ["validate", "manifests/"])
    assert validated.exit_code == 0 and validated.stdout in doc, validated.stdout
    with_key = ("--age-key-file", str(host_key))
    assert "$ podspec apply --age-key-file /etc/podspec/age/web.key manifests/" in doc
    applied = podspec(podman, "apply", *with_key, "manifests/")
    assert applied.exit_code == 0, applied.stderr
    assert "+ secret podspec-" in applied.output and "create (holds secret db key password)" in applied.output
    assert "+ pod shop: create (not on the host)" in applied.output and "+ pod shop: create (not on the host)" in doc
    assert read_in(podman, "shop-app", "/run/secrets/db/password") == "correct-horse"
    before = ids(podman)

    rotate = "sops rotate --in-place manifests/db-secret.yaml"
    assert f"`{rotate}`" in doc
    shell(rotate)
    assert (work / "manifests/db-secret.yaml").read_text() != encrypted
    unchanged = podspec(podman, "diff", *with_key, "manifests/")
    assert unchanged.exit_code == 0 and "No changes" in unchanged.output, unchanged.output

    new_value = """sops set manifests/db-secret.yaml '["stringData"]["password"]' '"new"'"""
    assert f"`{new_value}`" in doc
    shell(new_value)  # with your key (~/.config/sops/age/keys.txt)
    changed = podspec(podman, "apply", *with_key, "manifests/")
    assert changed.exit_code == 0 and "recreate: secret db changed" in changed.output, changed.output + changed.stderr
    assert read_in(podman, "shop-app", "/run/secrets/db/password") == "new"
    assert ids(podman)["shop-app"] != before["shop-app"]
