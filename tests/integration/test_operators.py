"""The agent for operators against a real Podman (both engines): notifications to a receiver on
loopback, the webhook receiver triggering a sync (GitHub and GitLab, good and bad secrets), and the
status page read by headless chromium."""

from __future__ import annotations

import html
import os
import re
import shutil
import signal

import pytest

from tests.conftest import free_port
from tests.integration.browser import dark_pixels, dump_dom, screenshot
from tests.integration.hooks import HookReceiver, github_signature, post, push_body, serve
from tests.integration.manifests import PROJECT, sleeper
from tests.integration.sync_helpers import Agent, Repo, containers, running, wait_until

pytestmark = pytest.mark.podman

NOTIFY_SECRET = b"notify-s3cret"
HOOK_SECRET = b"hook-s3cret-for-the-test"

# A commit whose error message carries markup: the page must show it as text.
MARKUP = """\
apiVersion: v1
kind: Pod
metadata:
  name: marked
spec:
  containers:
    - name: main
      image: docker.io/library/busybox:latest
      "<script>document.title='pwned'</script>": 1
"""


def events_of(recorder: HookReceiver, kind: str) -> list[dict]:
    return [e for e in recorder.events() if e["event"] == kind]


def test_notifications_webhooks_and_the_status_page(podman, tmp_path):
    repo, state = Repo(tmp_path / "repo"), tmp_path / "state"
    (tmp_path / "notify.secret").write_bytes(NOTIFY_SECRET + b"\n")
    (tmp_path / "hook.secret").write_bytes(HOOK_SECRET + b"\n")
    recorder = HookReceiver()
    server, url = serve(recorder)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    first = repo.commit({"a.yaml": sleeper("alpha")}, "alpha")
    try:
        with Agent(podman, repo, state, "--interval", "1h", "--log-format", "json", "--metrics-address", f"127.0.0.1:{port}",
                   "--notify", url, "--notify-secret-file", str(tmp_path / "notify.secret"),
                   "--webhook-secret-file", str(tmp_path / "hook.secret")) as agent:
            applied = recorder.wait_for(lambda r: events_of(r, "applied"), 60, "the first apply told")
            assert applied[0]["revision"] == first and applied[0]["pods"] == ["alpha"]
            assert applied[0]["outcome"] == "applied" and applied[0]["message"] == "alpha"
            assert applied[0]["project"] == PROJECT and applied[0]["branch"] == "main"
            sent = recorder.received[0]
            assert sent.headers["x-podspec-signature-256"] == github_signature(NOTIFY_SECRET, sent.body)

            # The interval is an hour: only the webhook can make the agent fetch the next commit.
            second = repo.commit({"a.yaml": sleeper("alpha"), "b.yaml": sleeper("beta")}, "beta")
            body = push_body("main", second)
            status, text = post(f"{base}/hooks/github", body, {"X-GitHub-Event": "push",
                                                                  "X-Hub-Signature-256": github_signature(b"guess", body)})
            assert status == 401 and "does not match" in text
            status, _ = post(f"{base}/hooks/gitlab", body, {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "guess"})
            assert status == 401
            status, _ = post(f"{base}/hooks/github", body, {"X-GitHub-Event": "push"})
            assert status == 401
            assert agent.agent_state()["applied"] == first  # answered before any round could start
            status, text = post(f"{base}/hooks/github", body, {"X-GitHub-Event": "push",
                                                                  "X-Hub-Signature-256": github_signature(HOOK_SECRET, body)})
            assert (status, text.strip()) == (202, "sync triggered by a push to main")
            wait_until(lambda: agent.agent_state().get("applied") == second, 60, "the pushed commit applied", agent)
            assert containers(podman) == ["alpha-main", "beta-main"]

            third = repo.commit({"a.yaml": sleeper("alpha"), "b.yaml": sleeper("beta"), "c.yaml": sleeper("gamma")}, "gamma")
            status, _ = post(f"{base}/hooks/gitlab", push_body("main", third),
                             {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": HOOK_SECRET.decode()})
            assert status == 202
            wait_until(lambda: agent.agent_state().get("applied") == third, 60, "the GitLab push applied", agent)
            told = recorder.wait_for(lambda r: len(events_of(r, "applied")) == 3 and events_of(r, "applied"), 30, "3 applies")
            assert [e["revision"] for e in told] == [first, second, third]
            assert told[2]["pods"] == ["gamma"]  # the pods this revision changed

            # A hand change, repaired at the next round (SIGHUP: a round now), is told.
            podman.podman("rm", "-f", "-t", "0", "beta-main")
            agent.signal(signal.SIGHUP)
            repaired = recorder.wait_for(lambda r: events_of(r, "repaired"), 60, "the repair told")
            assert repaired[0]["pods"] == ["beta"] and repaired[0]["revision"] == third
            assert running(podman, "beta-main")

            # A bad commit is refused and told; its message (with markup) goes on the page as text.
            bad = repo.commit({"a.yaml": sleeper("alpha"), "b.yaml": sleeper("beta"), "c.yaml": sleeper("gamma"),
                               "m.yaml": MARKUP}, "markup")
            agent.signal(signal.SIGHUP)
            refused = recorder.wait_for(lambda r: events_of(r, "refused"), 60, "the refusal told")
            assert refused[0]["revision"] == bad and refused[0]["outcome"] == "invalid"
            assert "<script>" in refused[0]["message"]  # JSON carries the text as it is

            dom = dump_dom(f"{base}/", tmp_path / "profile")
            shown = html.unescape(re.sub(r"<[^>]+>", " ", dom))
            assert f"podspec sync: {PROJECT}" in dom
            assert third in dom  # the revision on the host
            for pod in ("alpha", "beta", "gamma"):
                assert re.search(rf"<td>{pod}</td><td>Running</td><td>{pod}-main</td>", dom), pod
            assert "<script>document.title" not in dom and "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom
            assert "<title>podspec sync" in dom and "pwned</title>" not in dom  # no script ran
            assert f"revision {bad[:12]}" in shown  # the last error, with the refused revision
            history = dom[dom.index('id="history"'):]
            assert history.index(third[:12]) < history.index(second[:12]) < history.index(first[:12])  # newest first
            assert NOTIFY_SECRET.decode() not in dom and HOOK_SECRET.decode() not in dom
            assert 'http-equiv="refresh"' in dom

            page_png = screenshot(f"{base}/", tmp_path / "page.png", tmp_path / "profile")
            blank_png = screenshot("about:blank", tmp_path / "blank.png", tmp_path / "profile")
            if os.environ.get("PODSPEC_KEEP_SCREENSHOT"):
                shutil.copy(page_png, os.environ["PODSPEC_KEEP_SCREENSHOT"])
            assert dark_pixels(blank_png) == 0
            # The page's text: the heading at the top, and the pods' table further down.
            assert dark_pixels(page_png, (0, 0, 1200, 60)) > 300
            assert dark_pixels(page_png) > 10000
            assert agent.stop() == 0
    finally:
        server.shutdown()
