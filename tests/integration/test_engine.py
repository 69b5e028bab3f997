"""The private Podman is the engine the run asked for: a silent fallback to the host's fails."""

from __future__ import annotations

import sandbox

from tests.conftest import service_version


def test_the_service_is_the_engine_asked_for(podman_sandbox, record_property):
    # GET /version over the service's own socket: what the tests really talk to.
    version = service_version(podman_sandbox.url)
    record_property("podman_version", version)
    print(f"engine {podman_sandbox.engine}: Podman {version}")
    assert podman_sandbox.engine == sandbox.engine_choice()
    assert int(version.split(".")[0]) == sandbox.ENGINE_MAJOR[podman_sandbox.engine], (
        f"asked for {podman_sandbox.engine}, the service runs Podman {version}")


def test_the_cli_is_the_same_podman_as_the_service(podman_sandbox):
    # The podman command the tests run (the wrapper on podman5) is the service's version too.
    cli = podman_sandbox.podman("version", "--format", "{{.Client.Version}}").stdout.strip()
    assert cli == service_version(podman_sandbox.url)
