"""Every test under tests/integration needs the real, private Podman (or another real part: sshd, a
registry, chromium, pre-commit): each carries the `podman` marker, so `pytest -m "not podman"` is the
quick run (unit, contract-on-fake, CLI-on-fake tests). Those that never use the private Podman are
also marked `engine_independent`."""

from __future__ import annotations

from pathlib import Path

import pytest

# The registry servers (tests/integration/registry.py), for every test here that names them.
from tests.integration.registry import auth_registry, registry, tls_registry  # noqa: F401

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.podman)
            # A test here that never uses the private Podman (the hook of pre-commit, completion,
            # webhooks, unit files) gives the same result on either engine: the second engine's run
            # leaves it out (tests/conftest.py).
            if "podman_sandbox" not in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.engine_independent)
