"""podspec over ssh:// through a real OpenSSH server (tests/integration/sshd.py) in front of the
private Podman: the tutorial, every command, a `podman system connection` name, and each way the
connection can fail."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, fetch
from tests.integration.sshd import Sshd, sshd  # noqa: F401 - the fixture

pytestmark = pytest.mark.podman

TUTORIAL = ROOT / "manifests" / "webserver.yaml"
PODSPEC = str(Path(sys.executable).parent / "podspec")


def run(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([PODSPEC, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def over_ssh(server: Sshd, podman) -> list[str]:
    return ["--url", server.url(podman.state / "podman.sock"), "--identity", str(server.client_key)]


def test_the_tutorial_over_ssh(podman, sshd: Sshd, tmp_path):  # noqa: F811
    env = sshd.env(PODSPEC_PROJECT="tutorial")
    remote = over_ssh(sshd, podman)

    first = run(env, "apply", str(TUTORIAL), *remote)
    assert first.returncode == 0, first.stderr
    assert "Applied: 3 to create" in first.stdout  # the volume, the project network, the pod
    body = fetch("http://127.0.0.1:8080/", until=lambda b: "Index Updated @" in b)
    assert body.splitlines()[0] == "Static Website Init"

    ids = podman.podman("ps", "-a", "--format", "{{.ID}}").stdout.split()
    second = run(env, "apply", str(TUTORIAL), *remote)
    assert second.returncode == 0, second.stderr
    assert "Nothing to do." in second.stdout
    assert podman.podman("ps", "-a", "--format", "{{.ID}}").stdout.split() == ids

    diff = run(env, "diff", str(TUTORIAL), *remote, "-o", "json")
    assert diff.returncode == 0, diff.stderr
    assert json.loads(diff.stdout)["changed"] is False

    status = run(env, "status", *remote, "-o", "json")
    assert status.returncode == 0, status.stderr
    [pod] = json.loads(status.stdout)["pods"]
    assert (pod["name"], pod["project"], pod["drift"]) == ("dynamic-webserver", "tutorial", [])

    exported = run(env, "export", "dynamic-webserver", *remote, "-o", str(tmp_path / "export.yaml"))
    assert exported.returncode == 0, exported.stderr
    again = run(env, "diff", str(tmp_path / "export.yaml"), *remote)
    assert again.returncode == 0, again.stdout + again.stderr

    deleted = run(env, "delete", str(TUTORIAL), *remote)
    assert deleted.returncode == 0, deleted.stderr
    assert podman.podman("pod", "ps", "-q").stdout.strip() == ""
    assert "webserver-data" in podman.podman("volume", "ls", "--format", "{{.Name}}").stdout.split()


SECRET_POD = """\
apiVersion: v1
kind: Secret
metadata: {name: db-creds}
stringData: {password: s3cret-over-ssh}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: db-conf}
data: {db.conf: "port 5432"}
---
apiVersion: v1
kind: Pod
metadata: {name: secret-reader}
spec:
  terminationGracePeriodSeconds: 1
  containers:
    - name: app
      image: docker.io/library/busybox:latest
      imagePullPolicy: IfNotPresent
      command: ["sleep", "100000"]
      env:
        - name: PASSWORD
          valueFrom: {secretKeyRef: {name: db-creds, key: password}}
      volumeMounts:
        - {name: creds, mountPath: /run/creds}
        - {name: conf, mountPath: /etc/db}
  volumes:
    - {name: creds, secret: {secretName: db-creds}}
    - {name: conf, configMap: {name: db-conf}}
"""


def test_a_pod_that_reads_a_secret_and_a_config_map_applies_over_ssh(podman, sshd: Sshd, tmp_path):  # noqa: F811
    """Issue 21: each value becomes a Podman secret, whose body is bytes; over ssh:// that body was
    passed through json.dumps and the apply failed with an internal error."""
    from podspec.engine.podman import connect
    from podspec.reconcile.podman_rules import version_tuple

    with connect(podman.url) as engine:
        secret_env = version_tuple(engine.version()) >= (5, 3)
    text = SECRET_POD if secret_env else SECRET_POD.replace(
        "      env:\n        - name: PASSWORD\n          valueFrom: {secretKeyRef: {name: db-creds, key: password}}\n", "")
    manifest = tmp_path / "secret.yaml"
    manifest.write_text(text)
    env = sshd.env(PODSPEC_PROJECT="secrets")
    remote = over_ssh(sshd, podman)

    applied = run(env, "apply", str(manifest), *remote)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "s3cret-over-ssh" not in applied.stdout + applied.stderr
    read = lambda *cmd: podman.podman("exec", "secret-reader-app", *cmd).stdout
    assert read("cat", "/run/creds/password") == "s3cret-over-ssh"
    assert read("cat", "/etc/db/db.conf") == "port 5432"
    if secret_env:
        assert read("sh", "-c", "echo \"$PASSWORD\"") == "s3cret-over-ssh\n"
    again = run(env, "diff", str(manifest), *remote)
    assert again.returncode == 0, again.stdout + again.stderr
    deleted = run(env, "delete", str(manifest), *remote)
    assert deleted.returncode == 0, deleted.stderr
    left = podman.podman("secret", "ls", "--format", "{{.Name}}").stdout.split()
    assert [n for n in left if not n.startswith("podspec-history-")] == []  # the history outlives a delete


def private_connections(tmp_path: Path, podman) -> dict[str, str]:
    """An environment whose `podman system connection` list lives in the test's directory (Podman
    4 keeps it in containers.conf, Podman 5 in $XDG_CONFIG_HOME/containers): never the machine's."""
    conf = tmp_path / "containers.conf"
    conf.write_text((podman.state / "containers.conf").read_text())
    (tmp_path / "config").mkdir()
    env = dict(podman.env())
    env.update(CONTAINERS_CONF=str(conf), XDG_CONFIG_HOME=str(tmp_path / "config"), HOME=str(tmp_path))
    return env


def test_through_a_podman_system_connection(podman, sshd: Sshd, tmp_path):  # noqa: F811
    env = private_connections(tmp_path, podman)
    url = sshd.url(podman.state / "podman.sock")
    added = subprocess.run(
        ["podman", "system", "connection", "add", "--identity", str(sshd.client_key), "edge", url],
        capture_output=True, text=True, env=env,
    )
    assert added.returncode == 0, added.stderr
    listed = json.loads(subprocess.run(["podman", "system", "connection", "list", "--format", "json"],
                                       capture_output=True, text=True, env=env, check=True).stdout)
    [entry] = [e for e in listed if e["Name"] == "edge"]
    if entry["URI"] != url:
        # Podman 4.3.1 drops the socket path of an ssh:// URL in `connection add` (it keeps
        # `ssh://root@127.0.0.1:PORT`); put it back where Podman 4 keeps connections.
        conf = Path(env["CONTAINERS_CONF"])
        conf.write_text(conf.read_text().replace(f'uri = "{entry["URI"]}"', f'uri = "{url}"'))
    listed = json.loads(subprocess.run(["podman", "system", "connection", "list", "--format", "json"],
                                       capture_output=True, text=True, env=env, check=True).stdout)
    assert [(e["Name"], e["URI"], e["Identity"]) for e in listed] == [("edge", url, str(sshd.client_key))]
    env.update(PODSPEC_SSH_CONFIG=str(sshd.ssh_config), PODSPEC_PROJECT="viaconn")

    applied = run(env, "apply", str(TUTORIAL), "--connection", "edge")
    assert applied.returncode == 0, applied.stderr
    status = run(env, "status", "--connection", "edge", "-o", "json")
    assert [p["name"] for p in json.loads(status.stdout)["pods"]] == ["dynamic-webserver"]
    assert run(env, "diff", str(TUTORIAL), "--connection", "edge").returncode == 0

    unknown = run(env, "status", "--connection", "nowhere")
    assert unknown.returncode == 1
    assert "no Podman connection named 'nowhere' (known: edge)" in unknown.stderr


# ------------------------------------------------------------------------------ failures


def failed(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def test_connection_refused(podman, sshd: Sshd):  # noqa: F811
    from tests.conftest import free_port

    port = free_port()
    error = failed(run(sshd.env(), "status", "--url", f"ssh://root@127.0.0.1:{port}/run/podman/podman.sock",
                       "--identity", str(sshd.client_key)))
    assert f"nothing accepts SSH connections at root@127.0.0.1:{port} (connection refused)" in error
    assert "hint: check the host and port in the URL, and that sshd runs there" in error


def test_key_refused(podman, sshd: Sshd):  # noqa: F811
    error = failed(run(sshd.env(), "status", "--url", sshd.url(podman.state / "podman.sock"),
                       "--identity", str(sshd.other_key)))
    assert f"root@127.0.0.1:{sshd.port} refused the SSH login (identity {sshd.other_key})" in error
    assert "Permission denied (publickey)" in error
    assert "--identity" in error


def test_identity_file_missing(podman, sshd: Sshd, tmp_path):  # noqa: F811
    error = failed(run(sshd.env(), "status", "--url", sshd.url(podman.state / "podman.sock"),
                       "--identity", str(tmp_path / "no-such-key")))
    assert f"the identity file {tmp_path / 'no-such-key'} does not exist" in error


def test_unknown_host_key(podman, sshd: Sshd):  # noqa: F811
    env = sshd.env(PODSPEC_SSH_CONFIG=str(sshd.empty_config))
    error = failed(run(env, "diff", str(TUTORIAL), *over_ssh(sshd, podman)))
    assert f"the SSH host key of root@127.0.0.1:{sshd.port} is not known, so podspec cannot trust it" in error
    assert f"ssh-keyscan -p {sshd.port} 127.0.0.1 >> ~/.ssh/known_hosts" in error


def test_changed_host_key(podman, sshd: Sshd, tmp_path):  # noqa: F811
    other = (sshd.dir / "other_ed25519.pub").read_text().split()
    known = tmp_path / "known_hosts"
    known.write_text(f"[127.0.0.1]:{sshd.port} {other[0]} {other[1]}\n")
    config = tmp_path / "ssh_config"
    config.write_text(f"Host *\n  UserKnownHostsFile {known}\n  GlobalKnownHostsFile /dev/null\n")
    error = failed(run(sshd.env(PODSPEC_SSH_CONFIG=str(config)), "status", *over_ssh(sshd, podman)))
    assert f"the SSH host key of root@127.0.0.1:{sshd.port} has CHANGED" in error


def test_socket_missing_on_the_far_side(podman, sshd: Sshd):  # noqa: F811
    error = failed(run(sshd.env(), "apply", str(TUTORIAL), "--url", sshd.url("/run/nothing-here/podman.sock"),
                       "--identity", str(sshd.client_key)))
    assert f"no Podman service answers at /run/nothing-here/podman.sock on root@127.0.0.1:{sshd.port}" in error
    assert "systemctl enable --now podman.socket" in error
    assert podman.podman("pod", "ps", "-q").stdout.strip() == ""


def test_json_error_over_ssh(podman, sshd: Sshd):  # noqa: F811
    result = run(sshd.env(), "status", "-o", "json", "--url", sshd.url("/nope.sock"), "--identity", str(sshd.client_key))
    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "PodmanUnavailable" and "/nope.sock" in error["message"]


def test_ssh_tunnel_processes_end_with_the_command(podman, sshd: Sshd):  # noqa: F811
    before = sshd.tunnels()
    assert run(sshd.env(), "status", *over_ssh(sshd, podman)).returncode == 0
    assert sshd.tunnels() - before == set()


def test_bad_manifests_leave_no_tunnel_behind(podman, sshd: Sshd, tmp_path):  # noqa: F811
    # The tunnel starts while the manifests are read (engine/ssh.py prestart); when they are
    # refused, it ends with the command and Podman was never asked anything.
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: a, image: busybox, privileged: yes}]}\n")
    before = sshd.tunnels()
    result = run(sshd.env(), "apply", str(bad), *over_ssh(sshd, podman))
    assert result.returncode == 1 and "privileged" in result.stderr
    assert sshd.tunnels() - before == set()
    assert podman.podman("volume", "ls", "-q").stdout.strip() == ""


def test_host_paths_are_resolved_on_the_remote_host_over_ssh(podman, sshd: Sshd, tmp_path):  # noqa: F811
    """Over ssh:// the hostPath mounts (subPath included) are resolved on the remote host, the same
    rule as on a local socket: a link out of the allowed directory is refused before any change, a
    link that stays inside is applied."""
    from tests.integration.test_hardening import _host_path_pod

    env = sshd.env(PODSPEC_PROJECT="linked")
    remote = over_ssh(sshd, podman)
    allowed = tmp_path / "srv"
    (allowed / "real" / "inner").mkdir(parents=True)
    (allowed / "real" / "inner" / "file").write_text("mine\n")
    (allowed / "to-etc").symlink_to("/etc")
    (allowed / "inside").symlink_to("real/inner")
    odd = allowed / "it's $(here) -n"  # a name the remote shell must receive as one word
    odd.symlink_to("/etc")
    allow = ["--allow-host-path", str(allowed)]
    manifest = tmp_path / "linked.yaml"
    for path, sub, real in ((str(allowed), "to-etc", "/etc"), (str(odd), "", "/etc")):
        manifest.write_text(_host_path_pod(path, sub))
        refused = run(env, "apply", str(manifest), *remote, *allow)
        assert refused.returncode == 1, refused.stdout + refused.stderr
        assert f"leads to {real} through a symbolic link on the host, outside the allowed directories" in refused.stderr, \
            refused.stderr
    assert podman.podman("ps", "-aq").stdout.strip() == ""  # nothing was created
    manifest.write_text(_host_path_pod(str(allowed / "inside")))
    applied = run(env, "apply", str(manifest), *remote, *allow)
    assert applied.returncode == 0, applied.stderr
    assert podman.podman("exec", "linked-main", "cat", "/host/file").stdout == "mine\n"
