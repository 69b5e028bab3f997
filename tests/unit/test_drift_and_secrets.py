"""When to start a container (drift), which env names are secret."""

from __future__ import annotations

import json

import pytest

from podspec import labels as L
from podspec import secrets
from podspec.observed import ContainerState, ObservedContainer, PodStatus
from podspec.reconcile import drift


@pytest.mark.parametrize("state,code,policy,expected", [
    ("created", 0, "Never", True),
    ("exited", 0, "Always", True),
    ("exited", 3, "Always", True),
    ("exited", 0, "OnFailure", False),
    ("exited", 3, "OnFailure", True),
    ("exited", 0, "Never", False),
    ("exited", 3, "Never", False),
    ("stopped", 0, "Always", True),
    ("running", 0, "Always", False),
    ("paused", 0, "Always", False),
])
def test_should_start_follows_the_restart_policy(state, code, policy, expected):
    assert drift.should_start(ContainerState(state), code, policy) is expected


@pytest.mark.parametrize("name", [
    "PASSWORD", "DB_PASSWORD", "MYSQL_ROOT_PASSWORD", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "API_KEY",
    "APIKEY", "SECRET_KEY_BASE", "PRIVATE_KEY", "db-password", "SENTRY_DSN", "BASIC_AUTH", "TLS_CERT",
])
def test_secret_names(name):
    assert secrets.looks_secret(name)


@pytest.mark.parametrize("name", ["MONKEY", "AUTHOR", "CONCERT", "KEYBOARD_LAYOUT", "PATH", "MODE", "PASSAGE"])
def test_names_that_only_contain_a_secret_word_are_shown(name):
    assert not secrets.looks_secret(name)


def _container(name: str, state: str, *, managed: bool = True, role: str = "container", code: int = 0,
               policy: str = "Always") -> ObservedContainer:
    labels = {L.MANAGED_BY: L.MANAGER, L.ROLE: role, L.LAST_APPLIED: json.dumps({"restartPolicy": policy})} if managed else {}
    return ObservedContainer("id-" + name, name, "pod-id", "web", ContainerState(state), "img", "img-id", exit_code=code,
                             labels=labels)


def test_the_drift_loop_diff_and_status_share():
    present = [
        _container("web-hand", "running", managed=False),
        _container("web-app", "exited", code=1, policy="Never"),  # its label says Never ...
        _container("web-job", "exited", code=0, policy="OnFailure"),  # a job that finished
        _container("web-init", "exited", role="init"),  # init containers are never started as drift
        _container("web-gone", "exited"),  # not promised: its own label's policy
    ]
    promised = [drift.Promise("web-app", restart_policy="Always"),  # ... the promise says Always (diff's intent)
                drift.Promise("web-job"), drift.Promise("web-init", init=True), drift.Promise("web-new"),
                drift.Promise("web-once", init=True)]
    found = drift.containers(PodStatus.RUNNING, present, promised, "once")
    assert [(d.name, d.finding) for d in found] == [
        ("web-hand", drift.Finding.BY_HAND),
        ("web-app", drift.Finding.NOT_RUNNING),
        ("web-gone", drift.Finding.NOT_RUNNING),
        ("web-new", drift.Finding.MISSING),  # web-once: a "once" init container is gone after its run
    ]
    assert drift.containers(PodStatus.CREATED, [], promised[3:], "once")[-1].name == "web-once"  # not run yet
    assert [d.finding for d in drift.containers(PodStatus.EXITED, present, promised, "once")] == [
        drift.Finding.BY_HAND, drift.Finding.MISSING]  # a stopped pod's containers are the pod's to start
