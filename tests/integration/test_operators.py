"""The agent for operators against a real Podman (both engines): notifications to a receiver on
loopback, the webhook receiver triggering a sync (GitHub and GitLab, good and bad secrets), and the
status page read by headless chromium. The repository holds a SOPS-encrypted Secret that a pod reads:
its value reaches the container and none of the agent's outputs (events, page, metrics, log, state)."""

from __future__ import annotations

import html
import os
import re
import shutil
import signal
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.integration.browser import dark_pixels, dump_dom, pixels_of, screenshot
from tests.integration.hooks import HookReceiver, github_signature, post, push_body, serve
from tests.integration.manifests import PROJECT, sleeper
from tests.integration.sync_helpers import Agent, Repo, containers, running, wait_until
from tests.sopskit import age_key, encrypt

pytestmark = pytest.mark.podman

NOTIFY_SECRET = b"notify-s3cret"
HOOK_SECRET = b"hook-s3cret-for-the-test"
VALUE = "Pa55-agent-9Zr4w"  # a Secret's value, kept in git encrypted: looked for in everything the agent shows

SECRET = f"""\
apiVersion: v1
kind: Secret
metadata: {{name: db}}
stringData: {{password: {VALUE}}}
"""

# alpha reads the Secret
ALPHA = sleeper("alpha") + """\
      volumeMounts: [{name: db, mountPath: /run/db, readOnly: true}]
  volumes:
    - {name: db, secret: {secretName: db}}
"""

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
    key = age_key(tmp_path, "host.key")
    files = {"a.yaml": ALPHA, "db.yaml": encrypt(SECRET, key)}
    first = repo.commit(files, "alpha")
    try:
        with Agent(podman, repo, state, "--interval", "1h", "--log-format", "json", "--metrics-address", f"127.0.0.1:{port}",
                   "--notify", url, "--notify-secret-file", str(tmp_path / "notify.secret"),
                   "--webhook-secret-file", str(tmp_path / "hook.secret"), "--age-key-file", str(key.file)) as agent:
            applied = recorder.wait_for(lambda r: events_of(r, "applied"), 60, "the first apply told")
            assert applied[0]["revision"] == first and applied[0]["pods"] == ["alpha"]
            assert podman.podman("exec", "alpha-main", "cat", "/run/db/password").stdout == VALUE
            assert applied[0]["outcome"] == "applied" and applied[0]["message"] == "alpha"
            assert applied[0]["project"] == PROJECT and applied[0]["branch"] == "main"
            sent = recorder.received[0]
            assert sent.headers["x-podspec-signature-256"] == github_signature(NOTIFY_SECRET, sent.body)

            # The interval is an hour: only the webhook can make the agent fetch the next commit.
            second = repo.commit({**files, "b.yaml": sleeper("beta")}, "beta")
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

            third = repo.commit({**files, "b.yaml": sleeper("beta"), "c.yaml": sleeper("gamma")}, "gamma")
            status, _ = post(f"{base}/hooks/gitlab", push_body("main", third),
                             {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": HOOK_SECRET.decode()})
            assert status == 202
            wait_until(lambda: agent.agent_state().get("applied") == third, 60, "the GitLab push applied", agent)
            told = recorder.wait_for(lambda r: len(events_of(r, "applied")) == 3 and events_of(r, "applied"), 30, "3 applies")
            assert [e["revision"] for e in told] == [first, second, third]
            assert told[2]["pods"] == ["gamma"]  # the pods this revision changed

            # A hand change shows on the page as drift (the interval is an hour: nothing repairs it yet) ...
            podman.podman("rm", "-f", "-t", "0", "beta-main")
            page = lambda: urllib.request.urlopen(f"{base}/", timeout=10).read().decode()
            beta_row = lambda: re.search(r'<tr class="bad"><td>beta</td><td>[^<]*</td>(<td>[^<]*</td>){5}<td>([^<]+)</td>',
                                         page())
            drifted = wait_until(beta_row, 30, "beta's drift on the page", agent)  # the page reads the host every 3 s
            assert "beta-main" in drifted.group(2), drifted.group(0)
            # ... and is repaired at the next round (SIGHUP: a round now), and told.
            agent.signal(signal.SIGHUP)
            repaired = recorder.wait_for(lambda r: events_of(r, "repaired"), 60, "the repair told")
            assert repaired[0]["pods"] == ["beta"] and repaired[0]["revision"] == third
            assert running(podman, "beta-main")

            # An apply that fails (a pod of that name made by hand, not podspec's) is told.
            podman.podman("pod", "create", "--name", "clash")
            clashing = repo.commit({**files, "b.yaml": sleeper("beta"), "c.yaml": sleeper("gamma"),
                                    "d.yaml": sleeper("clash")}, "clash")
            agent.signal(signal.SIGHUP)
            failed = recorder.wait_for(lambda r: events_of(r, "failed"), 60, "the failed apply told")
            assert (failed[0]["revision"], failed[0]["outcome"]) == (clashing, "apply") and "clash" in failed[0]["message"]

            # A bad commit is refused and told; its message (with markup) goes on the page as text.
            bad = repo.commit({**files, "b.yaml": sleeper("beta"), "c.yaml": sleeper("gamma"), "m.yaml": MARKUP}, "markup")
            agent.signal(signal.SIGHUP)
            refused = recorder.wait_for(lambda r: events_of(r, "refused"), 60, "the refusal told")
            assert refused[0]["revision"] == bad and refused[0]["outcome"] == "invalid"
            assert "<script>" in refused[0]["message"]  # JSON carries the text as it is

            # The page reads the host at most every 3 s: once its history has the refusal, it is current.
            wait_until(lambda: bad[:12] in page()[page().index('id="history"'):], 30, "the page read the host again", agent)
            dom = dump_dom(f"{base}/", tmp_path / "profile")
            shown = html.unescape(re.sub(r"<[^>]+>", " ", dom))
            assert f"podspec sync: {PROJECT}" in dom
            assert f"<dt>source</dt><dd>{repo.path}</dd>" in dom
            assert third in dom  # the revision on the host
            assert re.search(r"<dt>applied at</dt><dd>20\d\d-[^<]* \(\d+[smh] ago\)</dd>", dom)  # and when
            # Each pod: its state, restarts (none), drift (none) and the revision it runs, as `podspec status`
            # says: the newest record that lists it (the failed apply's, which found them as it wanted them).
            for pod in ("alpha", "beta", "gamma"):
                assert re.search(rf'<tr class="ok"><td>{pod}</td><td>Running</td><td>{pod}-main</td><td>container</td>'
                                 rf"<td>running</td><td>[^<]+</td><td>0</td><td>none</td><td>{clashing[:12]}</td>", dom), \
                    dom[dom.index('id="pods"'):]
            assert "<script>document.title" not in dom and "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom
            assert "<title>podspec sync" in dom and "pwned</title>" not in dom  # no script ran
            assert f"revision {bad[:12]}" in shown  # the last error, with the refused revision
            history = dom[dom.index('id="history"'):]
            assert history.index(third[:12]) < history.index(second[:12]) < history.index(first[:12])  # newest first
            assert NOTIFY_SECRET.decode() not in dom and HOOK_SECRET.decode() not in dom and VALUE not in dom
            assert 'http-equiv="refresh"' in dom

            page_png = screenshot(f"{base}/", tmp_path / "page.png", tmp_path / "profile")
            blank_png = screenshot("about:blank", tmp_path / "blank.png", tmp_path / "profile")
            if os.environ.get("PODSPEC_KEEP_SCREENSHOT"):
                shutil.copy(page_png, os.environ["PODSPEC_KEEP_SCREENSHOT"])
            assert dark_pixels(blank_png) == 0
            # The page's text: the heading at the top, and the pods' table further down.
            assert dark_pixels(page_png, (0, 0, 1200, 60)) > 300
            assert dark_pixels(page_png) > 10000
            # The page's own style, which no other page (an error page, the metrics' text) has: the pods'
            # rows on their green (.ok, #e6f4ea), the last error in its red frame (.error, #cf222e).
            green, red = pixels_of(page_png, (0xe6, 0xf4, 0xea)), pixels_of(page_png, (0xcf, 0x22, 0x2e))
            print(f"\nscreenshot: {green} green pixels (the pods' rows), {red} red (the error's frame)")
            assert green > 20000 and red > 1000, (green, red)
            assert pixels_of(blank_png, (0xe6, 0xf4, 0xea)) == 0

            metrics = urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode()
            assert f'revision="{third}"' in metrics
            assert agent.stop() == 0
            told = [r.body.decode() for r in recorder.received]
            assert len(told) >= 6 and not [body for body in told if VALUE in body]
            assert VALUE not in metrics + agent.log()
            assert not [p for p in Path(state).rglob("*") if p.is_file() and VALUE.encode() in p.read_bytes()]
    finally:
        server.shutdown()
