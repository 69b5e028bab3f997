"""`podspec diff` against the private Podman: exact changes and exit codes."""

from __future__ import annotations

import json

import pytest

from tests.conftest import free_port
from tests.integration.manifests import SIDECAR, podspec, webserver, write

HTTPD = "dynamic-webserver-apache-httpd"
UPDATER = "dynamic-webserver-apache-httpd-index-updater"


def diff_json(podman, manifest: str, *flags: str) -> tuple[int, dict]:
    result = podspec(podman, "diff", "-o", "json", *flags, manifest)
    return result.exit_code, json.loads(result.output)


def applied(podman, tmp_path, text: str) -> str:
    manifest = write(tmp_path, text)
    result = podspec(podman, "apply", manifest)
    assert result.exit_code == 0, result.stderr
    return manifest


def test_nothing_applied_everything_to_create_then_nothing(podman, tmp_path):
    port = free_port()
    manifest = write(tmp_path, webserver(port))
    code, data = diff_json(podman, manifest)
    assert code == 2
    assert data["summary"] == {"create": 3, "recreate": 0, "replace": 0, "start": 0, "remove": 0, "conflict": 0, "adopt": 0,
                               "connect": 0}
    assert [(v["name"], v["action"]) for v in data["volumes"]] == [("webserver-data", "create")]
    assert [(p["name"], p["action"]) for p in data["pods"]] == [("dynamic-webserver", "create")]

    applied(podman, tmp_path, webserver(port))
    code, data = diff_json(podman, manifest)
    assert code == 0
    assert data["changed"] is False and data["pods"] == [] and data["unchanged_pods"] == ["dynamic-webserver"]
    text = podspec(podman, "diff", manifest)
    assert text.exit_code == 0
    assert "No changes: the host matches the manifests." in text.output


FIELDS = [
    ("image", "      image: docker.io/library/httpd:2.4\n", "      image: localhost/httpd:copy\n",
     "containers[apache-httpd].image", "docker.io/library/httpd:2.4", "localhost/httpd:copy"),
    ("command", "", '      command: ["httpd", "-f", "-p", "80"]\n', "containers[apache-httpd].command", None, ["httpd", "-f", "-p", "80"]),
    ("args", "", '      args: ["-v"]\n', "containers[apache-httpd].args", None, ["-v"]),
    ("workingDir", "", "      workingDir: /tmp\n", "containers[apache-httpd].workingDir", None, "/tmp"),
    ("env", "", "      env:\n        - {name: MODE, value: fast}\n", "containers[apache-httpd].env", None, {"MODE": "fast"}),
    ("resources", "", "      resources:\n        limits: {memory: 64Mi}\n",
     "containers[apache-httpd].resources", None, {"memoryLimitBytes": 67108864}),
    ("securityContext", "", "      securityContext:\n        capabilities:\n          drop: [NET_RAW]\n",
     "containers[apache-httpd].securityContext", None, {"capabilitiesDrop": ["NET_RAW"]}),
    ("livenessProbe", "", "      livenessProbe:\n        tcpSocket: {port: 80}\n",
     "containers[apache-httpd].livenessProbe", None,
     {"handler": "tcpSocket", "port": 80, "periodSeconds": 10, "timeoutSeconds": 1, "successThreshold": 1, "failureThreshold": 3}),
    ("stdin", "", "      stdin: true\n", "containers[apache-httpd].stdin", None, True),
    ("tty", "", "      tty: true\n", "containers[apache-httpd].tty", None, True),
    ("readOnly mount", "mountPath: /usr/local/apache2/htdocs}\n", "mountPath: /usr/local/apache2/htdocs, readOnly: true}\n",
     "containers[apache-httpd].volumeMounts[/usr/local/apache2/htdocs].readOnly", None, True),
]


def edit_httpd(text: str, old: str, new: str) -> str:
    """Change the httpd container's block only."""
    head, rest = text.split("    - name: apache-httpd\n", 1)
    block, tail = rest.split("    - name: apache-httpd-index-updater\n", 1)
    block = block.replace(old, new, 1) if old else block.rstrip("\n") + "\n" + new
    return head + "    - name: apache-httpd\n" + block + "    - name: apache-httpd-index-updater\n" + tail


@pytest.mark.parametrize("label,old,new,path,before,after", FIELDS, ids=[f[0] for f in FIELDS])
def test_each_container_field_change_is_reported_as_recreate(podman, tmp_path, label, old, new, path, before, after):
    if label == "image":
        podman.podman("tag", "docker.io/library/httpd:2.4", "localhost/httpd:copy")
    port = free_port()
    base = webserver(port)
    applied(podman, tmp_path, base)
    manifest = write(tmp_path, edit_httpd(base, old, new))
    code, data = diff_json(podman, manifest)
    assert code == 2, data
    (pod,) = data["pods"]
    assert pod["action"] is None
    (container,) = pod["containers"]
    assert (container["name"], container["action"]) == (HTTPD, "recreate")
    change = {"path": path, "new": after}
    if before is not None:
        change["old"] = before
    assert change in container["fields"], container["fields"]
    text = podspec(podman, "diff", manifest).output
    assert f"~ container {HTTPD}: recreate this container only (the manifest changed)" in text


def test_sidecar_command_change_path_and_values(podman, tmp_path):
    port = free_port()
    applied(podman, tmp_path, webserver(port))
    manifest = write(tmp_path, webserver(port, sidecar=SIDECAR.replace("sleep 10", "sleep 5")))
    result = podspec(podman, "diff", manifest)
    assert result.exit_code == 2
    assert "containers[apache-httpd-index-updater].command[2]: " in result.output
    assert '... sleep 10; done"' not in result.output
    assert 'sleep 10; done" -> "while true; do echo \\"Index Updated @$(date)\\" >> /usr/local/apache2/htdocs/index.html; sleep 5; done"' in result.output
    assert result.output.rstrip().endswith("Summary: 0 to create, 1 to recreate, 0 to replace, 0 to start, 0 to remove.")


@pytest.mark.parametrize("label,edit,path", [
    ("hostPort", lambda t, p: t.replace(f"hostPort: {p}", f"hostPort: {p + 1}"), "ports[0]"),
    ("init container", lambda t, p: t.replace("Static Website Init", "Other Init"), "initContainers[apache-httpd-init].command[2]"),
    ("hostname", lambda t, p: t.replace("  terminationGracePeriodSeconds: 1\n", "  terminationGracePeriodSeconds: 1\n  hostname: web\n"), "hostname"),
])
def test_pod_level_change_is_reported_as_replace(podman, tmp_path, label, edit, path):
    port = free_port()
    base = webserver(port)
    applied(podman, tmp_path, base)
    code, data = diff_json(podman, write(tmp_path, edit(base, port)))
    assert code == 2
    (pod,) = data["pods"]
    assert pod["action"] == "replace"
    assert "cannot" in pod["cause"]
    assert path in [f["path"] for f in pod["fields"]]


def test_removed_container_env_and_mount_are_reported(podman, tmp_path):
    port = free_port()
    base = edit_httpd(webserver(port), "", "      env:\n        - {name: A, value: '1'}\n        - {name: B, value: '2'}\n")
    applied(podman, tmp_path, base)

    no_sidecar = base.split("    - name: apache-httpd-index-updater\n")[0] + "  volumes:\n" + base.split("  volumes:\n")[1]
    code, data = diff_json(podman, write(tmp_path, no_sidecar))
    assert code == 2
    assert [(c["name"], c["action"], c["cause"]) for c in data["pods"][0]["containers"]] == [
        (UPDATER, "remove", "no longer in the manifest")
    ]

    code, data = diff_json(podman, write(tmp_path, base.replace("        - {name: B, value: '2'}\n", "")))
    assert data["pods"][0]["containers"][0]["fields"] == [{"path": "containers[apache-httpd].env[B]", "old": "2"}]

    without_mount = edit_httpd(base, "      volumeMounts:\n        - {name: data, mountPath: /usr/local/apache2/htdocs}\n", "")
    code, data = diff_json(podman, write(tmp_path, without_mount))
    (field,) = data["pods"][0]["containers"][0]["fields"]
    assert field["path"] == "containers[apache-httpd].volumeMounts" and "new" not in field


def test_drift_made_with_the_podman_cli_is_reported(podman, tmp_path):
    manifest = applied(podman, tmp_path, webserver(free_port()))

    podman.podman("stop", "-t", "0", UPDATER)
    code, data = diff_json(podman, manifest)
    assert code == 2
    assert [(c["name"], c["action"], c["cause"]) for c in data["pods"][0]["containers"]] == [
        (UPDATER, "start", "the container is exited")
    ]

    podman.podman("rm", "-f", "-t", "0", UPDATER)
    code, data = diff_json(podman, manifest)
    assert [(c["name"], c["action"]) for c in data["pods"][0]["containers"]] == [(UPDATER, "create")]

    podman.podman("run", "-d", "--name", "intruder", "--pod", "dynamic-webserver", "busybox", "sleep", "1000")
    code, data = diff_json(podman, manifest)
    assert ("intruder", "remove", "added to the pod by hand") in [
        (c["name"], c["action"], c["cause"]) for c in data["pods"][0]["containers"]
    ]

    podman.podman("pod", "stop", "-t", "1", "dynamic-webserver")
    code, data = diff_json(podman, manifest)
    assert code == 2
    assert (data["pods"][0]["action"], data["pods"][0]["cause"]) == ("start", "the pod is exited")


def test_same_named_pod_made_by_hand_is_a_conflict(podman, tmp_path):
    podman.podman("pod", "create", "--name", "dynamic-webserver")
    podman.podman("volume", "create", "webserver-data")
    result = podspec(podman, "diff", write(tmp_path, webserver(free_port())))
    assert result.exit_code == 1
    assert "x pod dynamic-webserver: conflict: will not touch (a pod with this name exists and podspec did not create it" in result.output
    assert "x volume webserver-data: conflict: will not touch" in result.output
    assert "apply would refuse" in result.stderr


def test_podman_unreachable_is_a_clear_error(podman, tmp_path):
    from typer.testing import CliRunner

    from podspec.cli import app

    manifest = write(tmp_path, webserver(free_port()))
    missing = tmp_path / "nothing-here.sock"
    result = CliRunner().invoke(app, ["diff", manifest, "--url", f"unix://{missing}", "--project", "x"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: Podman does not answer at unix://{missing} (chosen by --url)")
    assert "hint: start it with `podman system service" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_secret_env_values_never_shown(podman, tmp_path):
    port = free_port()
    base = edit_httpd(webserver(port), "", "      env:\n        - {name: DB_PASSWORD, value: hunter2}\n")
    applied(podman, tmp_path, base)
    manifest = write(tmp_path, base.replace("hunter2", "swordfish"))
    text = podspec(podman, "diff", manifest).output
    js = podspec(podman, "diff", "-o", "json", manifest).output
    for output in (text, js):
        assert "hunter2" not in output and "swordfish" not in output
        assert "(redacted)" in output


def test_pod_annotations_reach_every_container_and_a_change_is_reported(podman, tmp_path):
    port = free_port()
    base = webserver(port).replace(
        "    io.podman.annotations.init.container.type: always\n",
        "    io.podman.annotations.init.container.type: always\n    example.com/owner: web-team\n",
    )
    applied(podman, tmp_path, base)
    seen = podman.podman("container", "inspect", HTTPD, "--format", "{{index .Config.Annotations \"example.com/owner\"}}")
    assert seen.stdout.strip() == "web-team"
    code, data = diff_json(podman, write(tmp_path, base.replace("web-team", "ops-team")))
    assert code == 2
    # The init container carries the annotation too, and cannot change in a running pod.
    (pod,) = data["pods"]
    assert pod["action"] == "replace"
    assert {"path": "initContainers[apache-httpd-init].annotations[example.com/owner]", "old": "web-team",
            "new": "ops-team"} in pod["fields"]

    # Without init containers, only the containers are recreated.
    no_init = base.split("  initContainers:\n")[0] + "  containers:\n" + base.split("  containers:\n")[1]
    podman.purge()
    applied(podman, tmp_path, no_init)
    code, data = diff_json(podman, write(tmp_path, no_init.replace("web-team", "ops-team")))
    assert code == 2 and data["pods"][0]["action"] is None
    assert {(c["name"], c["action"]) for c in data["pods"][0]["containers"]} == {(HTTPD, "recreate"), (UPDATER, "recreate")}
    assert {"path": "containers[apache-httpd].annotations[example.com/owner]", "old": "web-team", "new": "ops-team"} in \
        data["pods"][0]["containers"][0]["fields"]
