"""The agent's metrics endpoint on its own (a server on 127.0.0.1: run inside a private network
namespace, like the other integration tests)."""

from __future__ import annotations

import pytest


def test_a_metrics_port_in_use_is_a_usage_error(tmp_path):
    import socket

    from podspec.errors import UsageError
    from podspec.run.sync.metrics import Metrics, serve

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(UsageError, match="cannot serve metrics"):
            serve(Metrics("web"), ("127.0.0.1", port), lambda: True)


def test_metrics_and_health_answer(tmp_path):
    import socket
    import urllib.request

    from podspec.run.sync.metrics import Metrics, serve

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    metrics = Metrics("web")
    metrics.applied("a" * 40, "main")
    metrics.applied("b" * 40, "main")  # only the revision on the host keeps its series
    metrics.failed("fetch")
    healthy = [True]
    stop = serve(metrics, ("127.0.0.1", port), lambda: healthy[0])
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        assert f'podspec_sync_applied_revision{{branch="main",project="web",revision="{"b" * 40}"}} 1.0' in text
        assert "a" * 40 not in text
        assert 'podspec_sync_failures_total{kind="fetch",project="web"} 1.0' in text
        assert urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).status == 200
        healthy[0] = False
        with pytest.raises(urllib.error.HTTPError) as answer:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert answer.value.code == 503
    finally:
        stop()
