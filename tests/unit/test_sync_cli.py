"""`podspec sync` flags and the failures that need no Podman (in-process, typer's CliRunner)."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from podspec.cli import app


def run(*args: str):
    return CliRunner().invoke(app, ["sync", *args], catch_exceptions=False)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("repo", "--verify-signatures"), "--allowed-signers"),
        (("repo", "--interval", "0"), "--interval"),
        (("repo", "--interval", "soon"), "not a duration"),
        (("repo", "--path", "../elsewhere"), "leaves the repository"),
        (("repo", "--path", "/etc"), "leaves the repository"),
        (("repo", "--branch", "a..b"), "not a branch name"),
        (("repo", "--metrics-address", "host:http"), "is not [HOST:]PORT"),
        (("repo", "--metrics-address", "127.0.0.1:70000"), "is not [HOST:]PORT"),
        (("repo", "--project", "Not Valid"), "invalid project name"),
        (("repo", "--notify", "ftp://example.com/x"), "not an http(s) URL"),
        (("repo", "--notify", "hooks.example.com"), "not an http(s) URL"),
        (("repo", "--notify-secret-file", "/nonexistent/secret"), "cannot read --notify-secret-file"),
        (("repo", "--webhook-secret-file", "/dev/null"), "--webhook-secret-file /dev/null is empty"),
    ],
)
def test_bad_flags_exit_1_before_anything_is_fetched(tmp_path, args, words):
    result = run(*args, "--state-dir", str(tmp_path / "state"), "--once")
    assert result.exit_code == 1
    assert words in result.stderr
    assert not (tmp_path / "state").exists()


@pytest.mark.parametrize(
    ("args", "address"),
    [
        ((), None),  # no HTTP address at all: nothing listens, the webhook receiver is off
        (("--webhook-secret-file", __file__), ("127.0.0.1", 9101)),  # the receiver on: loopback
        (("--metrics-address", "9102"), ("127.0.0.1", 9102)),  # a port alone: loopback
        (("--metrics-address", ":9102", "--webhook-secret-file", __file__), ("127.0.0.1", 9102)),
        (("--metrics-address", "0.0.0.0:9102"), ("0.0.0.0", 9102)),  # elsewhere only when named
        (("--metrics-address", "[::1]:9102"), ("::1", 9102)),
    ],
)
def test_the_http_address_and_the_webhook_receiver_are_on_loopback_unless_named(tmp_path, monkeypatch, args, address):
    import podspec.run.sync.agent as agent

    asked = []
    monkeypatch.setattr(agent, "sync", lambda request, *rest: asked.append(request) or agent.SyncResult(True, None))
    result = run("repo", *args, "--state-dir", str(tmp_path / "state"), "--once")
    assert result.exit_code == 0, result.stderr
    assert asked[0].metrics_address == address
    assert (asked[0].webhook_secret is not None) is ("--webhook-secret-file" in args)


def test_a_source_that_cannot_be_fetched_exits_1_and_is_reported_in_the_state(tmp_path):
    state = tmp_path / "state"
    result = run(str(tmp_path / "missing.git"), "--state-dir", str(state), "--once", "--log-format", "json")
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert lines[0]["event"] == "fetch" and lines[0]["level"] == "error" and lines[0]["retry_in"] == "5s"
    found = list(state.glob("missing-*/agent.json"))  # the project: the source's name and 6 digits of it
    assert len(found) == 1 and re.fullmatch(r"missing-[0-9a-f]{6}", found[0].parent.name)
    saved = json.loads(found[0].read_text())
    assert saved["applied"] is None and "git could not fetch" in saved["last_error"] and saved["running"] is False


def test_status_reads_the_agents_and_a_dead_agent_is_not_running(tmp_path):
    from podspec.run.sync.state import AgentState, read_all, write

    write(tmp_path, AgentState("web", "/srv/web.git", "main", (".",), pid=2**22 + 12345, running=True, applied="a" * 40))
    write(tmp_path, AgentState("db", "/srv/db.git", "main", (".",), pid=__import__("os").getpid(), running=True))
    agents = read_all(tmp_path, None)
    assert [(a.project, a.running) for a in agents] == [("db", True), ("web", False)]
    assert read_all(tmp_path, "web")[0].applied == "a" * 40
    assert read_all(tmp_path, "nope") == ()
    assert read_all(tmp_path / "missing", None) == ()

