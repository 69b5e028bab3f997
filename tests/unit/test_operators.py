"""Pure parts of the agent for operators: event payloads and signatures, the webhook receiver's
verdicts, and the status page's HTML (escaping, no Secret value, self-refresh)."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from podspec.reconcile import agent_page, notices, webhooks
from podspec.reconcile.history import HistoryRecord
from podspec.reconcile.status import ContainerLine, PodReport

SECRET = b"hook-s3cret"


def push(branch: str = "main") -> bytes:
    return json.dumps({"ref": f"refs/heads/{branch}", "after": "a" * 40}).encode()


def github(body: bytes, secret: bytes = SECRET, event: str = "push") -> dict[str, str]:
    return {"x-hub-signature-256": "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest(), "x-github-event": event}


@pytest.mark.parametrize(
    ("path", "headers", "body", "status", "trigger"),
    [
        ("/hooks/github", github(push()), push(), 202, True),
        ("/hooks/github/", github(push()), push(), 202, True),
        ("/hooks/github", github(push(), b"wrong"), push(), 401, False),
        ("/hooks/github", {"x-github-event": "push"}, push(), 401, False),
        ("/hooks/github", github(push()), push() + b" ", 401, False),  # the body changed after signing
        ("/hooks/github", github(push("dev")), push("dev"), 202, False),  # another branch
        ("/hooks/github", github(push(), event="ping"), push(), 200, False),
        ("/hooks/github", github(push(), event="issues"), push(), 202, False),
        ("/hooks/github", github(b"not json"), b"not json", 400, False),
        ("/hooks/gitlab", {"x-gitlab-token": SECRET.decode(), "x-gitlab-event": "Push Hook"}, push(), 202, True),
        ("/hooks/gitlab", {"x-gitlab-token": "guess", "x-gitlab-event": "Push Hook"}, push(), 401, False),
        ("/hooks/gitlab", {"x-gitlab-event": "Push Hook"}, push(), 401, False),
        ("/hooks/gitlab", {"x-gitlab-token": SECRET.decode(), "x-gitlab-event": "Tag Push Hook"}, push(), 202, False),
        ("/hooks/bitbucket", github(push()), push(), 404, False),
    ],
)
def test_webhook_verdicts(path, headers, body, status, trigger):
    answer = webhooks.judge(path, "POST", headers, body, SECRET, "main")
    assert (answer.status, answer.trigger) == (status, trigger), answer.message


def test_the_receiver_is_off_without_a_secret_and_takes_only_post():
    assert webhooks.judge("/hooks/github", "POST", github(push()), push(), None, "main").status == 404
    assert webhooks.judge("/hooks/github", "GET", {}, b"", SECRET, "main").status == 405
    big = b"{" + b" " * webhooks.MAX_BODY + b"}"
    assert webhooks.judge("/hooks/github", "POST", github(big), big, SECRET, "main").status == 413


def test_payload_is_stable_and_signed_as_github_signs():
    event = notices.Event(notices.EventKind.IMAGE_UPDATE, "web", "c" * 40, "available", 0.0, "an update",
                          ("web",), (notices.ImageChange("reg/app:1", "sha256:old", "sha256:new", ("web-app",)),))
    body = notices.payload(event)
    assert json.loads(body) == {
        "event": "image-update", "project": "web", "revision": "c" * 40, "outcome": "available",
        "time": "1970-01-01T00:00:00Z", "message": "an update", "pods": ["web"], "source": "", "branch": "",
        "images": [{"image": "reg/app:1", "running": "sha256:old", "available": "sha256:new", "containers": ["web-app"]}],
    }
    assert body == notices.payload(event)
    sent = notices.headers(event, body, b"k")
    assert sent["X-Podspec-Signature-256"] == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert "X-Podspec-Signature-256" not in notices.headers(event, body, None)


def test_retry_rule():
    rule = notices.RetryRule(attempts=4, first=1, cap=3)
    assert [rule.delay(n) for n in range(1, 6)] == [1, 2, 3, None, None]
    assert notices.worth_retrying(None) and notices.worth_retrying(503) and notices.worth_retrying(429)
    assert not notices.worth_retrying(400) and not notices.worth_retrying(404)


def view(**changes) -> agent_page.PageView:
    pods = (PodReport("<script>alert(1)</script>", "web", "Running",
                      (ContainerLine("<script>alert(1)</script>-main", "regular", "running", "reg/app:1", 3),),
                      ("container x is <b>exited</b>",), "d" * 40),)
    base = dict(project="web", source="https://bot:ghp_T0KEN@git.example.com/ops/manifests.git", branch="main",
                paths=("manifests",), now=1000.0, applied="d" * 40, applied_at=940.0, last_error="apply failed: <img src=x>",
                error_revision="e" * 40, pods=pods,
                history=(HistoryRecord("web", 1, "d" * 40, "2026-12-06T16:00:00Z", "applied", changed=("a&b",)),),
                images=(agent_page.ImageLine("reg/app:1", "registry", "update available", 990.0, ("web-main",)),))
    base.update(changes)
    return agent_page.PageView(**base)  # type: ignore[arg-type]


def test_page_escapes_everything_and_hides_url_credentials():
    html = agent_page.render(view())
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img" not in html and "&lt;img src=x&gt;" in html
    assert "<b>" not in html and "a&amp;b" in html
    assert "ghp_T0KEN" not in html and "https://git.example.com/ops/manifests.git" in html
    assert '<meta http-equiv="refresh" content="10">' in html
    assert "update available" in html and ">3<" in html and "d" * 12 in html
    assert "(60s ago)" in html  # applied 60 s before now


def test_page_says_when_nothing_is_there():
    html = agent_page.render(view(pods=(), history=(), images=(), last_error=None, host_error="Podman is down"))
    assert "cannot read the host: Podman is down" in html and "no applies recorded" in html
    assert '<section id="last-error"><h2>Last error</h2><p class="empty">none</p>' in html
