"""When to start a container (drift), which env names are secret."""

from __future__ import annotations

import pytest

from podspec import secrets
from podspec.observed import ContainerState
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
