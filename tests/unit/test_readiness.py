"""Readiness rules for `apply --wait`, on plain data."""

from __future__ import annotations

from dataclasses import replace

from podspec.model import InitContainerType, RestartPolicy
from podspec.observed import ContainerState
from podspec.reconcile.readiness import Expected, assess, expected_of, expected_on_host
from tests.unit.hosts import applied, state, webserver, with_state

HTTPD = "dynamic-webserver-apache-httpd"


def test_running_containers_are_ready():
    desired = state(webserver())
    result = assess(expected_of(desired), applied(desired))
    assert result.waiting == () and result.failed == () and result.running == (HTTPD, f"{HTTPD}-index-updater")


def test_finished_jobs_are_ready_failed_ones_are_not():
    for policy, code, waiting, failed in [
        (RestartPolicy.NEVER, 0, (), ()),
        (RestartPolicy.ON_FAILURE, 0, (), ()),
        (RestartPolicy.NEVER, 3, (), (f"{HTTPD}: exited with code 3 (restartPolicy Never)",)),
        (RestartPolicy.ON_FAILURE, 3, (f"{HTTPD}: exited with code 3, to be restarted (OnFailure)",), ()),
        (RestartPolicy.ALWAYS, 0, (f"{HTTPD}: exited",), ()),
    ]:
        desired = state(replace(webserver(), restart_policy=policy))
        host = with_state(applied(desired), HTTPD, ContainerState.EXITED)
        host = replace(host, containers=tuple(replace(c, exit_code=code) if c.name == HTTPD else c for c in host.containers))
        result = assess(expected_of(desired), host)
        assert (result.waiting, result.failed) == (waiting, failed), policy


def test_the_host_says_what_is_expected_without_manifests():
    desired = state(replace(webserver(), restart_policy=RestartPolicy.ON_FAILURE))
    host = applied(desired)
    assert expected_on_host(host, {"dynamic-webserver", "absent"}) == (
        Expected(HTTPD, RestartPolicy.ON_FAILURE), Expected(f"{HTTPD}-index-updater", RestartPolicy.ON_FAILURE))
    assert expected_on_host(host, set()) == ()


def test_an_init_container_podman_removed_after_its_run_is_not_waited_for():
    """Podman removes an init container of type `once` (the default) once it has run: `podspec start`
    (the boot unit) must not wait for it, as for a regular container that went missing."""
    desired = state(replace(webserver(), init_container_type=InitContainerType.ONCE))
    host = applied(desired)
    host = replace(host, containers=tuple(c for c in host.containers if not c.name.endswith("-init")))
    expected = expected_on_host(host, {"dynamic-webserver"})
    assert [e.name for e in expected] == [HTTPD, f"{HTTPD}-index-updater"]
    assert assess(expected, host).waiting == ()
