"""Kubernetes quantities to millicores and bytes."""

from __future__ import annotations

import pytest

from podspec.loader.quantity import QuantityError, to_bytes, to_millis


@pytest.mark.parametrize(
    ("written", "millis"),
    [("100m", 100), ("0.5", 500), (0.5, 500), (1, 1000), ("1", 1000), ("2.25", 2250), ("1n", 1), ("1500u", 2),
     ("1e3", 1_000_000), ("+1", 1000), (".5", 500), ("1k", 1_000_000)],
)
def test_cpu(written, millis):
    assert to_millis(written) == millis


@pytest.mark.parametrize(
    ("written", "size"),
    [("128Mi", 128 * 2**20), ("1G", 10**9), ("1Gi", 2**30), ("1e3", 1000), ("1E3", 1000), (1024, 1024),
     ("1.5Ki", 1536), ("100m", 1), ("0", 0), ("1Ei", 2**60), ("2E", 2 * 10**18)],
)
def test_memory(written, size):
    assert to_bytes(written) == size


@pytest.mark.parametrize("written", ["lots", "-1", "1Kb", "", "1e", "1e400", "10Ei", float("inf"), float("nan"), -1, True])
def test_invalid(written):
    with pytest.raises(QuantityError):
        to_bytes(written)
