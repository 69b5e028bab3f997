"""`podspec sync`: the pull agent. Parses flags, calls run.sync.agent.sync, maps the result to an exit code."""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

if TYPE_CHECKING:
    from podspec.reconcile.autoupdate import UpdateMode

from podspec.cli import context
from podspec.cli.application import app
from podspec.cli.common import (
    AGE_KEY_FILE_OPTION,
    ALLOW_CAPABILITY_OPTION,
    ALLOW_HOST_PATH_OPTION,
    ALLOW_HOST_PORT_OPTION,
    CONNECTION_OPTION,
    EXIT_ERROR,
    EXIT_OK,
    IDENTITY_OPTION,
    PARALLEL_OPTION,
    POLICY_OPTION,
    PROJECT_OPTION,
    URL_OPTION,
    guarded,
)


class LogFormat(str, Enum):
    text = "text"
    json = "json"


STATE_DIR_OPTION = typer.Option(
    None, "--state-dir", metavar="DIR",
    help="Where the agent keeps its clone and state. Default: /var/lib/podspec/sync for root, "
         "else $XDG_STATE_HOME/podspec/sync (~/.local/state/podspec/sync).",
)


def state_dir(flag: Optional[Path]) -> Path:
    from podspec.run.sync.state import default_state_dir

    return flag if flag is not None else default_state_dir(context.environment(), os.geteuid() == 0)


@app.command("sync")
@guarded()
def sync(
    source: str = typer.Argument(..., help="A git URL (ssh, https, file) or a local repository."),
    branch: str = typer.Option("main", "--branch", "-b", help="The branch to follow."),
    path: Optional[list[str]] = typer.Option(None, "--path", metavar="DIR",
                                             help="Manifests directory or file inside the repository (repeatable). Default: the whole repository."),
    interval: str = typer.Option("60s", "--interval", help="How often to fetch and observe the host (e.g. 30s, 5m)."),
    prune: bool = typer.Option(False, "--prune", help="Also remove pods of this project that left the manifests."),
    self_heal: bool = typer.Option(False, "--self-heal", help="Repair pods changed by hand within seconds (Podman's event stream)."),
    resync: str = typer.Option("5m", "--resync", help="With --self-heal, while Podman's event stream is connected: how "
                                                      "often a round still reads the whole host for drift (e.g. 10m)."),
    once: bool = typer.Option(False, "--once", help="One round, then exit (for systemd timers and cron); exit codes as apply's."),
    no_probes: bool = typer.Option(False, "--no-probes",
                                   help="Run no probes (by default the agent runs the pods' probes and restarts a "
                                        "container whose liveness or startup probe fails; see docs/lifecycle.md)."),
    state: Optional[Path] = STATE_DIR_OPTION,
    verify_signatures: bool = typer.Option(False, "--verify-signatures", help="Apply only commits signed by an allowed key."),
    allowed_signers: Optional[Path] = typer.Option(None, "--allowed-signers", metavar="FILE",
                                                   help="git's allowed-signers file for SSH signatures (with --verify-signatures)."),
    gpg_home: Optional[Path] = typer.Option(None, "--gpg-home", metavar="DIR",
                                            help="An OpenPGP keyring (GNUPGHOME) whose keys are trusted (with --verify-signatures)."),
    allow_rewind: bool = typer.Option(False, "--allow-rewind", help="Accept a head that does not descend from the applied revision."),
    metrics_address: Optional[str] = typer.Option(None, "--metrics-address", metavar="[HOST:]PORT",
                                                  help="Serve Prometheus metrics (/metrics), a health check (/healthz) and "
                                                       "the status page (/) there; a port alone is on loopback (127.0.0.1). "
                                                       "Default: off, or 127.0.0.1:9101 with the webhook receiver."),
    notify: Optional[list[str]] = typer.Option(None, "--notify", metavar="URL",
                                               help="POST a JSON event to URL for each applied, failed, rolled-back, refused "
                                                    "and repaired revision and each image update (repeatable)."),
    notify_secret_file: Optional[Path] = typer.Option(None, "--notify-secret-file", metavar="FILE",
                                                      help="Sign each event's body with this shared secret "
                                                           "(HMAC-SHA256 in X-Podspec-Signature-256, as GitHub signs).\n"
                                                           "Default: $PODSPEC_NOTIFY_SECRET."),
    webhook_secret_file: Optional[Path] = typer.Option(None, "--webhook-secret-file", metavar="FILE",
                                                       help="Turn on the webhook receiver (/hooks/github, /hooks/gitlab on "
                                                            "--metrics-address, else 127.0.0.1:9101): a push signed with this "
                                                            "secret triggers a sync at once. Default: $PODSPEC_WEBHOOK_SECRET, "
                                                            "else off."),
    image_updates: str = typer.Option("apply", "--image-updates", metavar="apply|notify|off",
                                      help="Containers with io.containers.autoupdate (registry, local): recreate them when "
                                           "their image moved (apply), only tell (notify), or do not check (off)."),
    image_interval: str = typer.Option("5m", "--image-interval", help="How often to check auto-update images (one "
                                                                     "registry request per distinct image)."),
    authfile: Optional[str] = typer.Option(None, "--authfile", metavar="FILE",
                                           help="Registry credentials for pulls and image checks (Podman's auth.json). "
                                                "Default: $REGISTRY_AUTH_FILE, else the Podman service's own for pulls."),
    log_format: LogFormat = typer.Option(LogFormat.text, "--log-format", help="Log lines as text or json (one per event, on stderr)."),
    lock_timeout: float = typer.Option(600.0, "--lock-timeout", help="Seconds to wait for another apply of the same project."),
    rollback_on_failure: Optional[str] = typer.Option(
        None, "--rollback-on-failure", metavar="TIMEOUT",
        help="A commit must be ready within TIMEOUT (e.g. 2m), else it is rolled back, marked bad and not tried "
             "again until a new commit (docs/rollouts.md)."),
    parallel: int = PARALLEL_OPTION,
    project: Optional[str] = PROJECT_OPTION,
    url: Optional[str] = URL_OPTION,
    connection: Optional[str] = CONNECTION_OPTION,
    identity: Optional[str] = IDENTITY_OPTION,
    age_key_file: Optional[str] = AGE_KEY_FILE_OPTION,
    policy: Optional[str] = POLICY_OPTION,
    allow_host_path: Optional[list[str]] = ALLOW_HOST_PATH_OPTION,
    allow_host_port: Optional[list[str]] = ALLOW_HOST_PORT_OPTION,
    allow_capability: Optional[list[str]] = ALLOW_CAPABILITY_OPTION,
) -> None:
    """Keep this host on a git branch: apply each new commit that passes validation and policy, and repair drift."""
    from podspec.reconcile.sync import parse_duration
    from podspec.run.sync.agent import SyncRequest
    from podspec.run.sync.agent import sync as run_sync
    from podspec.run.sync.log import AgentLog
    from podspec.run.sync.metrics import parse_address

    request = SyncRequest(
        source=source, branch=branch, paths=tuple(path or ["."]), project=_project(project, source, tuple(path or ["."]), state_dir(state)),
        state_dir=state_dir(state), policy=context.policy(policy, allow_host_path, allow_host_port, allow_capability),
        interval=parse_duration(interval), prune=prune, self_heal=self_heal, once=once,
        resync=parse_duration(resync, "--resync"),
        verify_signatures=verify_signatures, allowed_signers=allowed_signers, gpg_home=gpg_home,
        allow_rewind=allow_rewind, metrics_address=parse_address(metrics_address) if metrics_address else None,
        lock_timeout=lock_timeout, parallel=parallel, decrypt=context.decryptor(age_key_file),
        notify=_notify_urls(notify or []), notify_secret=_secret(notify_secret_file, "PODSPEC_NOTIFY_SECRET", "--notify-secret-file"),
        webhook_secret=_secret(webhook_secret_file, "PODSPEC_WEBHOOK_SECRET", "--webhook-secret-file"),
        image_updates=_update_mode(image_updates), image_interval=parse_duration(image_interval),
        credentials=context.registry_credentials(authfile), registries_conf=_registries_conf(),
        probes=not no_probes, probe_image=context.probe_image(),
        ready_timeout=parse_duration(rollback_on_failure, "--rollback-on-failure") if rollback_on_failure else None,
    )
    if request.webhook_secret and request.metrics_address is None:  # the receiver on: on loopback unless told
        from dataclasses import replace

        from podspec.run.sync.metrics import DEFAULT_ADDRESS

        request = replace(request, metrics_address=DEFAULT_ADDRESS)
    log = AgentLog(sys.stderr, as_json=log_format is LogFormat.json)
    result = run_sync(request, context.connector(url, connection, identity), log)
    raise typer.Exit(EXIT_OK if result.ok else EXIT_ERROR)


def _project(flag: Optional[str], source: str, paths: tuple[str, ...], states: Path) -> str:
    """--project, else $PODSPEC_PROJECT, else the default unique to the source and --path
    (run/project.py); an agent that ran here under the former default (the repository's name: its
    state directory is there) keeps that name, and says so."""
    from podspec.run.origin import for_repository
    from podspec.run.project import for_agent

    named = for_agent(flag, context.environment(), source, for_repository(source), paths)
    if named.former and (states / named.former).is_dir():
        from podspec.reconcile.former import notice

        context.say_err(f"warning: {notice(named.name, named.former)}")
        return named.former
    return named.name


def _notify_urls(urls: list[str]) -> tuple[str, ...]:
    from podspec.errors import UsageError
    from podspec.run.sync.notify import check_url

    for url in urls:
        problem = check_url(url)
        if problem:
            raise UsageError(problem, "for example --notify https://hooks.example.com/podspec")
    return tuple(urls)


def _secret(path: Optional[Path], variable: str, flag: str) -> Optional[bytes]:
    """A shared secret from a file (trailing newline dropped), else the environment variable."""
    from podspec.errors import UsageError

    if path is None:
        value = context.environment().get(variable, "")
        return value.encode() if value else None
    try:
        secret = path.read_bytes().rstrip(b"\r\n")
    except OSError as exc:
        raise UsageError(f"cannot read {flag} {path}: {exc.strerror or exc}", "give a file that holds the shared secret") from None
    if not secret:
        raise UsageError(f"{flag} {path} is empty", "write the shared secret into it (e.g. openssl rand -hex 32 > FILE)")
    return secret


def _update_mode(text: str) -> UpdateMode:
    from podspec.errors import UsageError
    from podspec.reconcile.autoupdate import UpdateMode

    try:
        return UpdateMode(text)
    except ValueError:
        raise UsageError(f"--image-updates {text!r} is not one of apply, notify, off",
                         "for example --image-updates notify (tell, do not recreate)") from None


def _registries_conf() -> str:
    """Podman's registries.conf as Podman finds it ($CONTAINERS_REGISTRIES_CONF, else /etc's): which
    registries the image checks may reach over plain HTTP."""
    path = context.environment().get("CONTAINERS_REGISTRIES_CONF") or "/etc/containers/registries.conf"
    try:
        return Path(path).read_text()
    except (OSError, UnicodeDecodeError):
        return ""
