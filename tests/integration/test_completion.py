"""Shell completion (podspec/cli/completion.py), through the installed `podspec` command as the
shells call it: bash by sourcing the script in a real bash and calling its function; zsh and fish
through the protocol their scripts use (the same variables). Pod names for `export` come from the
private Podman."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
PODSPEC = str(BIN / "podspec")


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("_PODSPEC", "COMP_", "_TYPER"))}
    base.pop("CONTAINER_HOST", None)
    base["PATH"] = f"{BIN}{os.pathsep}{base['PATH']}"
    return base | extra


def bash_complete(line: str, cwd: Path | None = None, **extra: str) -> list[str]:
    """What bash offers for `line` (the cursor at its end), with the script `podspec completion bash` prints."""
    words = line.split(" ")
    script = f"""
source <(podspec completion bash)
COMP_WORDS=({' '.join(repr(w) for w in words)})
COMP_CWORD={len(words) - 1}
_podspec_completion podspec
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, env=env(**extra), cwd=cwd, timeout=60)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    return [w for w in result.stdout.splitlines() if w]


def test_bash_completes_commands_options_and_values():
    assert sorted(bash_complete("podspec ")) == ["apply", "delete", "diff", "export", "history", "info", "rollback", "start",
                                                 "status", "stop", "sync", "validate"]
    assert bash_complete("podspec ap") == ["apply"]
    assert "--dry-run" in bash_complete("podspec apply --")
    assert bash_complete("podspec apply --pol") == ["--policy"]
    assert bash_complete("podspec diff --policy ") == ["baseline", "restricted", "privileged"]
    assert bash_complete("podspec validate --policy re") == ["restricted"]
    assert bash_complete("podspec status -o ") == ["text", "json"]


def test_bash_completes_targets_from_podspec_toml(tmp_path):
    (tmp_path / "podspec.toml").write_text('[targets.edge]\nurl = "unix:///x"\nmanifests = ["m"]\n'
                                           '[targets.lab]\nconnection = "lab"\nmanifests = ["m"]\n')
    assert bash_complete("podspec apply --target ", cwd=tmp_path) == ["all", "edge", "lab"]
    assert bash_complete("podspec apply --target e", cwd=tmp_path) == ["edge"]


def zsh_or_fish(shell: str, line: str) -> str:
    extra = {"_PODSPEC_COMPLETE": f"complete_{shell}", "_TYPER_COMPLETE_ARGS": line}
    if shell == "fish":
        extra["_TYPER_COMPLETE_FISH_ACTION"] = "get-args"
    result = subprocess.run([PODSPEC], capture_output=True, text=True, env=env(**extra), timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_zsh_and_fish_scripts_and_answers():
    for shell in ("zsh", "fish"):
        script = subprocess.run([PODSPEC, "completion", shell], capture_output=True, text=True, check=True).stdout
        assert "_PODSPEC_COMPLETE=complete_" + shell in script
    assert '"restricted":"baseline, non-root' in zsh_or_fish("zsh", "podspec diff --policy ")
    assert zsh_or_fish("fish", "podspec ex").split("\t")[0] == "export"


def test_completion_adds_nothing_to_help():
    help_text = subprocess.run([PODSPEC, "--help"], capture_output=True, text=True, check=True).stdout
    assert "completion" not in help_text and "--install-completion" not in help_text
    assert subprocess.run([PODSPEC, "--version"], capture_output=True, text=True, check=True).stdout == "podspec 0.1.0\n"


@pytest.mark.podman
def test_export_completes_the_pods_on_the_host(podman):
    podman.podman("pod", "create", "--name", "made-by-hand")
    podman.podman("pod", "create", "--name", "monitoring")
    assert bash_complete(f"podspec export --url {podman.url} ") == ["made-by-hand", "monitoring"]
    assert bash_complete(f"podspec export --url {podman.url} mo") == ["monitoring"]
    assert bash_complete(f"podspec export --url {podman.url} monitoring ") == ["made-by-hand"]
    assert bash_complete("podspec export --url unix:///nothing/here.sock ") == []  # no host: nothing, no error
