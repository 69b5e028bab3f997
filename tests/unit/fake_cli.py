"""The CLI against a FakeEngine: every command's connection is answered by the fake (no Podman)."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from podspec.engine.fake import FakeEngine


def cli_on_fake(monkeypatch: pytest.MonkeyPatch, images: Sequence[str]) -> FakeEngine:
    """A FakeEngine holding (and able to pull) `images`, that every CLI command in this test connects
    to; $PODSPEC_PROJECT unset."""
    fake = FakeEngine(images=tuple(images), pullable=tuple(images))
    monkeypatch.setattr("podspec.cli.context.connector", lambda url, connection, identity=None: (lambda: fake))
    monkeypatch.delenv("PODSPEC_PROJECT", raising=False)
    return fake
