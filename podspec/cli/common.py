"""What every command shares: output format, error reporting, exit codes."""

from __future__ import annotations

import functools
import os
import sys
from enum import Enum
from typing import Any, Callable

import typer

from podspec.cli import completion
from podspec.errors import PodspecError
from podspec.run import PODS_AT_ONCE

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_CHANGES = 2


class OutputFormat(str, Enum):
    text = "text"
    json = "json"


class ProgressMode(str, Enum):
    """How pulls show while they run (`apply --progress`; cli/progress.py shows them)."""

    auto = "auto"  # tty on a terminal, else plain
    tty = "tty"  # a live line per image: layers, bytes, speed
    plain = "plain"  # one line when each pull starts and one when it ends (CI logs)
    quiet = "quiet"  # nothing (failures and warnings still show)


OUTPUT_OPTION = typer.Option(OutputFormat.text, "-o", "--output", help="Output format: text or json.")


class DiffOutput(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"  # a pull-request comment


class ValidateOutput(str, Enum):
    text = "text"
    json = "json"
    markdown = "markdown"  # a pull-request comment
    github = "github"  # GitHub workflow-command annotations


DIFF_OUTPUT_OPTION = typer.Option(
    DiffOutput.text, "-o", "--output", help="Output format: text, json or markdown (a pull-request comment).")
VALIDATE_OUTPUT_OPTION = typer.Option(
    ValidateOutput.text, "-o", "--output",
    help="Output format: text, json, markdown (a pull-request comment) or github (annotations on the files' lines).")


def print_json(data: Any) -> None:
    from podspec.render import json_text

    typer.echo(json_text(data))


def report_error(error: PodspecError, output: OutputFormat | DiffOutput | ValidateOutput) -> None:
    from podspec import render

    if output == OutputFormat.json:  # every command's format enum has json
        print_json(render.error_json(error))
        return
    for line in render.error_lines(error):
        typer.echo(line, err=True)


def guarded(output_param: str = "output") -> Callable:
    """Turn podspec errors raised by a command into a message and exit 1, never a traceback."""

    def wrap(command: Callable) -> Callable:
        @functools.wraps(command)
        def run(*args: Any, **kwargs: Any) -> Any:
            output = kwargs.get(output_param, OutputFormat.text)
            try:
                return command(*args, **kwargs)
            except PodspecError as error:
                report_error(error, output)
                raise typer.Exit(EXIT_ERROR) from None
            except KeyboardInterrupt:
                typer.echo("interrupted; run the command again to converge", err=True)
                raise typer.Exit(130) from None
            except BrokenPipeError:
                sys.stderr.close()
                raise typer.Exit(EXIT_ERROR) from None
            except typer.Exit:
                raise
            except Exception as error:  # a bug: still no traceback unless asked for
                if os.environ.get("PODSPEC_DEBUG"):
                    raise
                report_error(
                    PodspecError(
                        f"internal error: {type(error).__name__}: {error}",
                        "this is a bug in podspec; run again with PODSPEC_DEBUG=1 for the traceback and report it",
                    ),
                    output,
                )
                raise typer.Exit(EXIT_ERROR) from None

        return run

    return wrap


PATHS_ARGUMENT = typer.Argument(..., help="Manifest files or directories (recursive, *.yaml/*.yml), or - for stdin.")
URL_OPTION = typer.Option(None, "--url", help="Podman service URL (unix://, ssh:// or tcp://). Default: $CONTAINER_HOST.")
IDENTITY_OPTION = typer.Option(
    None, "--identity", metavar="FILE",
    help="SSH private key for ssh:// (default: the connection's, else $CONTAINER_SSHKEY, else ssh's own).",
)
FORCE_CONFLICTS_OPTION = typer.Option(
    False, "--force-conflicts",
    help="Change, prune and remove objects of this project that another source (another repository or "
         "directory) applied, and take them over (as kubectl apply --force-conflicts).")
CONNECTION_OPTION = typer.Option(None, "--connection", "-c", help="A connection name from `podman system connection ls`.")
# Commands that read the host's records (status, history): one project, or every one.
ONLY_PROJECT_OPTION = typer.Option(None, "--project", "-p", help="Only this project (default: $PODSPEC_PROJECT, else every project).")
PROJECT_OPTION = typer.Option(
    None, "--project", "-p",
    help="Project name. Default: $PODSPEC_PROJECT (podspec.toml's project), else the directory holding the first manifest and 6 hex digits of its source (docs/hardening.md).",
)

# Security policy (podspec/policy.py); context.policy() passes the environment to run.manifests.policy_from, which
# reads $PODSPEC_POLICY and the others when a flag is absent.
POLICY_OPTION = typer.Option(
    None, "--policy", metavar="PROFILE", autocompletion=completion.profiles,
    help="Security profile: baseline, restricted or privileged. Default: $PODSPEC_POLICY, else baseline.",
)
ALLOW_HOST_PATH_OPTION = typer.Option(
    None, "--allow-host-path", metavar="PATH",
    help="Allow hostPath volumes at or below PATH (repeatable). Default: $PODSPEC_ALLOW_HOST_PATHS.",
)
ALLOW_HOST_PORT_OPTION = typer.Option(
    None, "--allow-host-port", metavar="PORT",
    help="restricted: allow this host port (repeatable). Default: $PODSPEC_ALLOW_HOST_PORTS.",
)
ALLOW_CAPABILITY_OPTION = typer.Option(
    None, "--allow-capability", metavar="CAP",
    help="Allow adding exactly this capability (repeatable). Default: $PODSPEC_ALLOW_CAPABILITIES.",
)

REQUIRE_ENCRYPTED_SECRETS_OPTION = typer.Option(
    False, "--require-encrypted-secrets",
    help="Refuse Secrets that are not SOPS-encrypted in their files (GitOps). "
    "Default: $PODSPEC_REQUIRE_ENCRYPTED_SECRETS, podspec.toml's [policy] require_encrypted_secrets, else off.",
)
AGE_KEY_FILE_OPTION = typer.Option(
    None, "--age-key-file", metavar="FILE",
    help="age key file that decrypts SOPS-encrypted manifests. Default: $SOPS_AGE_KEY_FILE, $SOPS_AGE_KEY, "
    "else sops' own (~/.config/sops/age/keys.txt).",
)

STRICT_OPTION = typer.Option(
    False, "--strict",
    help="Fields only a Kubernetes cluster uses (nodeSelector, namespace, ...) are errors, not warnings.",
)

PARALLEL_OPTION = typer.Option(
    PODS_AT_ONCE, "--parallel", min=1, max=16,
    help="How many pods to change at once (each pod's steps stay in order); 1 runs every step in turn.",
)
