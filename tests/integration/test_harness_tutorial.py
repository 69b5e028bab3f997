"""The harness proves itself on the tutorial, with the podman CLI in the private Podman."""

from __future__ import annotations

import json

from tests.conftest import fetch, free_port

SIDECAR = 'while true; do echo "Index Updated @$(date)" >> /usr/local/apache2/htdocs/index.html; sleep 10; done'


def test_tutorial_pod_serves_page_and_sidecar_updates(podman):
    port = free_port()
    podman.podman("volume", "create", "webserver-data")
    podman.podman(
        "pod", "create", "-p", f"{port}:80", "--name", "dynamic-webserver",
        "--volume", "webserver-data:/usr/local/apache2/htdocs:z",
    )
    podman.podman("run", "-d", "--name", "apache-httpd", "--pod", "dynamic-webserver", "httpd:2.4")
    page = fetch(f"http://127.0.0.1:{port}/")
    assert page == "<html><body><h1>It works!</h1></body></html>\n"

    podman.podman(
        "run", "-d", "--stop-timeout", "1", "--name", "apache-httpd-index-updater",
        "--pod", "dynamic-webserver", "alpine", "sh", "-c", SIDECAR,
    )
    page = fetch(f"http://127.0.0.1:{port}/", until=lambda body: "Index Updated @" in body)
    lines = page.splitlines()
    assert lines[0] == "<html><body><h1>It works!</h1></body></html>"
    assert lines[1].startswith("Index Updated @")


def test_private_podman_is_not_the_default_storage(podman):
    info = json.loads(podman.podman("info", "--format", "json").stdout)
    assert info["store"]["graphRoot"].startswith(str(podman.state))
    assert info["host"]["ociRuntime"]["name"] == "runc"
    images = podman.podman("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split()
    assert {"docker.io/library/httpd:2.4", "docker.io/library/alpine:latest", "docker.io/library/busybox:latest"} <= set(images)


def test_fixture_leaves_nothing_behind(podman_sandbox):
    # Runs after the tests above in this module: their pods, containers and volumes are gone.
    assert podman_sandbox.podman("pod", "ps", "-q").stdout.strip() == ""
    assert podman_sandbox.podman("ps", "-aq").stdout.strip() == ""
    assert podman_sandbox.podman("volume", "ls", "-q").stdout.strip() == ""
