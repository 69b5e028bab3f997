"""Image updates from Podman's auto-update annotations against a real registry (a tag pushed
again) and a real Podman (both engines): apply honours `registry` as imagePullPolicy: Always, diff
shows a moved tag, the agent checks once per distinct image and interval (the registry's access log
counts), recreates exactly the containers whose image moved, tells, and in notify-only mode only
tells."""

from __future__ import annotations

import urllib.request

import pytest

from tests.conftest import free_port
from tests.integration.hooks import HookReceiver, serve
from tests.integration.manifests import podspec, write
from tests.integration.registry import build_variant, push, remove_images_of, start
from tests.integration.sync_helpers import Agent, Repo, wait_until

pytestmark = pytest.mark.podman


@pytest.fixture
def counted(podman, tmp_path):
    """A registry of this test's own, whose access log counts requests."""
    server = start(tmp_path / "registry", "open", access_log=True)
    try:
        yield server
    finally:
        remove_images_of(podman, server)
        server.stop()


def pod(name: str, *containers: tuple[str, str, str]) -> str:
    """A pod of sleepers: (container, image, its io.containers.autoupdate policy or "")."""
    notes = [f"    io.containers.autoupdate/{c}: {policy}" for c, _, policy in containers if policy]
    meta = f"metadata:\n  name: {name}\n" + ("  annotations:\n" + "\n".join(notes) + "\n" if notes else "")
    text = f"apiVersion: v1\nkind: Pod\n{meta}spec:\n  terminationGracePeriodSeconds: 1\n  containers:\n"
    for c, image, _ in containers:
        text += (f"    - name: {c}\n      image: {image}\n      imagePullPolicy: IfNotPresent\n"
                 "      command: [sleep, '100000']\n")
    return text


def insecure_here(podman) -> dict[str, str]:
    """The sandbox's registries.conf (it marks 127.0.0.1 insecure) for the agent, as Podman reads it."""
    return {"CONTAINERS_REGISTRIES_CONF": podman.env()["CONTAINERS_REGISTRIES_CONF"]}


def container_id(podman, name: str) -> str:
    return podman.podman("inspect", "--format", "{{.Id}}", name).stdout.strip()


def marker(podman, name: str) -> str:
    return podman.podman("exec", name, "cat", "/marker").stdout.strip()


def publish(podman, registry, name: str, text: str) -> str:
    """Build an image whose /marker holds `text`, push it as `name` (moving the tag); its digest."""
    build_variant(podman, f"localhost/build-{text}:1", text)
    digest = push(podman, registry, f"localhost/build-{text}:1", name)
    podman.podman("rmi", f"localhost/build-{text}:1")
    return digest


def test_apply_pulls_registry_images_as_always_and_diff_shows_a_moved_tag(podman, counted, tmp_path):
    ref = counted.ref("au:1")
    publish(podman, counted, "au:1", "one")
    manifest = write(tmp_path, pod("au", ("main", ref, "registry"), ("pinned", ref, "")))
    assert podspec(podman, "apply", manifest).exit_code == 0
    pinned = container_id(podman, "au-pinned")
    assert marker(podman, "au-main") == "one"

    publish(podman, counted, "au:1", "two")
    quiet = podspec(podman, "diff", manifest)  # diff asks no registry: the new image is not here yet
    assert quiet.exit_code == 0, quiet.output
    podman.podman("pull", "-q", "--tls-verify=false", ref)
    shown = podspec(podman, "diff", manifest)
    assert shown.exit_code == 2
    assert "image update (io.containers.autoupdate: registry)" in shown.output and "au-main" in shown.output
    assert "au-pinned" not in shown.output  # IfNotPresent, no annotation: keeps what it runs

    podman.podman("rmi", "-f", ref)  # apply pulls it itself, as imagePullPolicy: Always would
    publish(podman, counted, "au:1", "three")
    applied = podspec(podman, "apply", manifest)
    assert applied.exit_code == 0, applied.stderr
    assert f"pull {ref} (imagePullPolicy Always)" in applied.output
    assert marker(podman, "au-main") == "three"
    assert container_id(podman, "au-pinned") == pinned


def test_the_agent_checks_once_per_image_and_recreates_exactly_what_moved(podman, counted, tmp_path):
    ref = counted.ref("app:1")
    first_digest = publish(podman, counted, "app:1", "one")
    build_variant(podman, "localhost/loc:1", "local-one")
    repo, state = Repo(tmp_path / "repo"), tmp_path / "state"
    repo.commit({"a.yaml": pod("a", ("main", ref, "registry")),
                 "b.yaml": pod("b", ("main", ref, "registry"), ("side", "docker.io/library/busybox:latest", "")),
                 "c.yaml": pod("c", ("main", "localhost/loc:1", "local"))})
    recorder = HookReceiver()
    server, url = serve(recorder)
    port = free_port()
    try:
        with Agent(podman, repo, state, "--interval", "1h", "--image-interval", "2s", "--log-format", "json",
                   "--notify", url, "--metrics-address", f"127.0.0.1:{port}", env=insecure_here(podman)) as agent:
            checks = lambda n: (lambda: len([e for e in agent.lines() if e["event"] == "image-check"]) >= n)
            wait_until(checks(1), 60, "the first image check", agent)
            before = counted.requests("HEAD", "/v2/app/manifests/")
            wait_until(checks(4), 60, "three more image checks", agent)
            made = len([e for e in agent.lines() if e["event"] == "image-check"])
            # pods a and b use the one image: one request per check, not one per container (the next
            # check is 2 s away, so none has started since the fourth line)
            assert counted.requests("HEAD", "/v2/app/manifests/") - before == made - 1, \
                [e for e in agent.lines() if e["event"].startswith("image")]
            ids = {n: container_id(podman, n) for n in ("a-main", "b-main", "b-side", "c-main")}

            second_digest = publish(podman, counted, "app:1", "two")
            told = recorder.wait_for(lambda r: [e for e in r.events() if e["event"] == "image-update"], 60,
                                     "the image update told")
            event = told[0]
            assert event["outcome"] == "applied" and event["pods"] == ["a", "b"]
            assert event["images"] == [{"image": ref, "running": first_digest, "available": second_digest,
                                        "containers": ["a-main", "b-main"]}]
            assert marker(podman, "a-main") == "two" and marker(podman, "b-main") == "two"
            assert container_id(podman, "a-main") != ids["a-main"] and container_id(podman, "b-main") != ids["b-main"]
            assert container_id(podman, "b-side") == ids["b-side"]  # same pod, no annotation: untouched
            assert container_id(podman, "c-main") == ids["c-main"]

            build_variant(podman, "localhost/loc:1", "local-two")  # the local tag moves
            wait_until(lambda: len([e for e in recorder.events() if e["event"] == "image-update"]) == 2, 60,
                       "the local update told", agent)
            assert marker(podman, "c-main") == "local-two"
            assert container_id(podman, "a-main") != ids["a-main"]
            page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read().decode()
            images = page[page.index('<section id="images">'):page.index('<section id="history">')]
            loc_row = images[images.index("<td>localhost/loc:1</td>"):].split("</tr>")[0]
            assert "<td>local</td>" in loc_row and "<td>c-main</td>" in loc_row and " at 20" in loc_row, loc_row
            app_row = images[images.index(f"<td>{ref}</td>"):].split("</tr>")[0]
            assert f"{second_digest[:19]} at 20" in app_row and "<td>a-main, b-main</td>" in app_row, app_row
            assert agent.stop() == 0
    finally:
        server.shutdown()
        podman.podman("rmi", "-f", "localhost/loc:1", check=False)


def test_notify_only_tells_once_and_changes_nothing(podman, counted, tmp_path):
    ref = counted.ref("quiet:1")
    first_digest = publish(podman, counted, "quiet:1", "one")
    repo, state = Repo(tmp_path / "repo"), tmp_path / "state"
    repo.commit({"a.yaml": pod("n", ("main", ref, "registry"))})
    recorder = HookReceiver()
    server, url = serve(recorder)
    try:
        with Agent(podman, repo, state, "--interval", "1h", "--image-interval", "1s", "--image-updates", "notify",
                   "--log-format", "json", "--notify", url, env=insecure_here(podman)) as agent:
            wait_until(lambda: [e for e in agent.lines() if e["event"] == "image-check"], 60, "the first check", agent)
            before = container_id(podman, "n-main")
            local = podman.podman("image", "inspect", "--format", "{{.Id}}", ref).stdout.strip()
            second_digest = publish(podman, counted, "quiet:1", "two")
            told = recorder.wait_for(lambda r: [e for e in r.events() if e["event"] == "image-update"], 60, "told")
            assert told[0]["outcome"] == "available" and told[0]["pods"] == ["n"]
            assert told[0]["images"][0]["running"] == first_digest and told[0]["images"][0]["available"] == second_digest
            seen = len([e for e in agent.lines() if e["event"] == "image-check"])
            wait_until(lambda: len([e for e in agent.lines() if e["event"] == "image-check"]) >= seen + 2, 30,
                       "two more checks", agent)
            assert len([e for e in recorder.events() if e["event"] == "image-update"]) == 1  # told once
            assert container_id(podman, "n-main") == before
            assert podman.podman("image", "inspect", "--format", "{{.Id}}", ref).stdout.strip() == local  # not pulled
            assert marker(podman, "n-main") == "one"
            assert agent.stop() == 0
    finally:
        server.shutdown()


def test_the_agent_checks_with_the_credentials_apply_uses(podman, auth_registry, tmp_path):
    """An htpasswd registry: without credentials the check fails and says so; with --authfile, or the
    pod's imagePullSecrets (as apply takes them), the update is found. The password never reaches the
    log or the events."""
    from tests.integration.registry import PASSWORD

    ref = auth_registry.ref("private/busybox:latest")
    auth = auth_registry.auth_file(tmp_path / "auth.json")
    repo = Repo(tmp_path / "repo")
    repo.commit({"a.yaml": pod("p", ("main", ref, "registry"))})
    recorder = HookReceiver()
    server, url = serve(recorder)
    try:
        with Agent(podman, repo, tmp_path / "state-none", "--once", "--image-updates", "notify", "--log-format", "json",
                   "--authfile", str(auth), env=insecure_here(podman)) as applied:
            assert applied.process.wait(120) == 0, applied.log()  # the commit applied (pulled with the auth file)
        with Agent(podman, repo, tmp_path / "state", "--interval", "1h", "--image-interval", "1s", "--image-updates",
                   "notify", "--log-format", "json", "--notify", url, env=insecure_here(podman)) as blind:
            failed = wait_until(lambda: [e for e in blind.lines() if e["event"] == "image-check-failed"], 60,
                                "the check without credentials", blind)
            assert "asks for credentials" in failed[0]["message"]
            assert blind.stop() == 0
        moved = build_variant(podman, "localhost/private-two:1", "private-two")
        assert moved
        with Agent(podman, repo, tmp_path / "state", "--interval", "1h", "--image-interval", "1s", "--image-updates",
                   "notify", "--log-format", "json", "--notify", url, "--authfile", str(auth),
                   env=insecure_here(podman)) as agent:
            wait_until(lambda: [e for e in agent.lines() if e["event"] == "image-check"], 60, "a check", agent)
            assert not [e for e in agent.lines() if e["event"] == "image-check-failed"], agent.log()
            push(podman, auth_registry, "localhost/private-two:1", "private/busybox:latest")
            told = recorder.wait_for(lambda r: [e for e in r.events() if e["event"] == "image-update"], 60, "told")
            assert told[0]["outcome"] == "available" and told[0]["images"][0]["image"] == ref
            assert agent.stop() == 0
            assert PASSWORD not in agent.log() and PASSWORD not in str(recorder.events())

        # The pods' imagePullSecrets, as apply takes them, without --authfile: the check passes and a
        # fresh agent tells the update the registry still has (notify-only ran nothing of it).
        from tests.integration.test_registry_pulls import pull_secret

        repo.commit({"a.yaml": pod("p", ("main", ref, "registry")) + "  imagePullSecrets:\n    - name: regcred\n---\n"
                     + pull_secret("regcred", auth_registry)}, "the registry's credentials in a pull secret")
        with Agent(podman, repo, tmp_path / "state", "--interval", "1h", "--image-interval", "1s", "--image-updates",
                   "notify", "--log-format", "json", "--notify", url, env=insecure_here(podman)) as by_secret:
            told = recorder.wait_for(lambda r: len([e for e in r.events() if e["event"] == "image-update"]) == 2
                                     and [e for e in r.events() if e["event"] == "image-update"], 60, "told again")
            assert told[1]["outcome"] == "available" and told[1]["images"][0]["image"] == ref
            assert not [e for e in by_secret.lines() if e["event"] == "image-check-failed"], by_secret.log()
            assert by_secret.stop() == 0
            assert PASSWORD not in by_secret.log() and PASSWORD not in str(recorder.events())
    finally:
        server.shutdown()
        push(podman, auth_registry, "docker.io/library/busybox:latest", "private/busybox:latest")  # as the fixture left it
        podman.podman("rmi", "-f", "localhost/private-two:1", ref, check=False)


def test_an_update_that_never_becomes_ready_is_rolled_back_and_held(podman, counted, tmp_path):
    """Through the rollouts' readiness gate: the moved image fails its readiness probe, the apply
    rolls back to the image that ran, the digest is held (not tried every interval) and the next
    push is applied."""
    ref = counted.ref("gate:1")
    publish(podman, counted, "gate:1", "ready-one")
    manifest = pod("g", ("main", ref, "registry")).replace(
        "      command: [sleep, '100000']\n",
        "      command: [sleep, '100000']\n      readinessProbe:\n        exec: {command: [grep, -q, ready, /marker]}\n"
        "        periodSeconds: 1\n")
    repo, state = Repo(tmp_path / "repo"), tmp_path / "state"
    repo.commit({"g.yaml": manifest})
    recorder = HookReceiver()
    server, url = serve(recorder)
    try:
        with Agent(podman, repo, state, "--interval", "1h", "--image-interval", "2s", "--log-format", "json",
                   "--rollback-on-failure", "8s", "--notify", url, env=insecure_here(podman)) as agent:
            wait_until(lambda: [e for e in agent.lines() if e["event"] == "image-check"], 90, "the first check", agent)
            assert marker(podman, "g-main") == "ready-one"
            bad = publish(podman, counted, "gate:1", "broken")
            told = recorder.wait_for(lambda r: [e for e in r.events() if e["event"] == "image-update"], 120, "the rollback")
            assert told[0]["outcome"] == "rolled-back" and told[0]["images"][0]["available"] == bad, told[0]
            assert marker(podman, "g-main") == "ready-one"  # the image that ran before
            seen = len([e for e in agent.lines() if e["event"] == "image-check"])
            wait_until(lambda: len([e for e in agent.lines() if e["event"] == "image-check"]) >= seen + 2, 30,
                       "two more checks", agent)
            assert len([e for e in agent.lines() if e["event"] == "image-update"]) == 1  # held, not retried
            assert agent.agent_state()["applied"] == repo.head()  # the commit is not marked bad

            good = publish(podman, counted, "gate:1", "ready-two")
            applied = recorder.wait_for(lambda r: [e for e in r.events() if e["event"] == "image-update"
                                                   and e["outcome"] == "applied"], 120, "the next update applied")
            assert applied[0]["images"][0]["available"] == good
            assert marker(podman, "g-main") == "ready-two"
            assert agent.stop() == 0
    finally:
        server.shutdown()
