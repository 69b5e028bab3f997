"""SOPS-encrypted manifests: recognised here; decrypted by the function a command hands the loader.

A document that sops (https://getsops.io) encrypted carries a top-level `sops` mapping (its keys'
recipients, `lastmodified`, the `mac`). Its mapping keys stay in clear; its values (all of them, or
those `encrypted_regex` picks, e.g. `^(data|stringData)$`) read `ENC[AES256_GCM,data:...,type:str]`.
sops encrypts a file as a whole (one data key, one MAC over every document), so a file is either
encrypted or plain: a file mixing both is a problem here, before sops is asked.

- With a decryptor (diff, apply, delete, the sync agent: run/sops.py runs the real sops, stdin to
  stdout), the file's bytes go to it and its plain YAML comes back, in memory only. Each decrypted
  document keeps the positions of its encrypted one (sops keeps every key where it was), so a
  problem points into the file as it is in git.
- Without one (`validate`, which needs no key), each encrypted value becomes a placeholder of its
  type and the document's shape is checked (kind, fields, keys); problems at encrypted values are
  not said (they would be about the placeholder). A document whose apiVersion, kind or name is
  encrypted cannot be checked that way: a warning says so (encrypt data and stringData only).

Pure: no process is run here; the decryptor raises DecryptionError, which becomes a problem naming
the file. Nothing here keeps or shows a decrypted value.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Callable

from podspec.errors import DecryptionError, Origin, Problem
from podspec.model import EncryptedDocument, FieldPath, Secret, dotted

# (the file's name, for messages; the file's bytes) -> the decrypted YAML. Raises DecryptionError.
Decrypt = Callable[[str, bytes], bytes]

ENC = re.compile(r"^ENC\[AES256_GCM,data:[^,\]]*,iv:[^,\]]*,tag:[^,\]]*,type:(str|int|float|bool|bytes|comment)\]$")
# What stands for an encrypted value when its shape is checked without the key: a string that is
# valid base64 (Secret data) and not empty; numbers and booleans of their type.
_PLACEHOLDER: dict[str, Any] = {"str": "ZW5jcnlwdGVk", "bytes": "ZW5jcnlwdGVk", "int": 1, "float": 1.0, "bool": True}
_IDENTITY: tuple[FieldPath, ...] = (("apiVersion",), ("kind",), ("metadata", "name"))
SECRET_VALUES = ("data", "stringData")
ENCRYPT_HINT = "encrypt data and stringData only: sops --encrypt --encrypted-regex '^(data|stringData)$' --age AGE_PUBLIC_KEY --in-place FILE"


def is_encrypted(data: Any) -> bool:
    """Whether a document carries SOPS metadata."""
    return isinstance(data, dict) and isinstance(data.get("sops"), dict) and "mac" in data["sops"]


def is_value_encrypted(value: Any) -> bool:
    return isinstance(value, str) and ENC.match(value) is not None


def encrypted_paths(data: Any, path: FieldPath = ()) -> list[FieldPath]:
    """The paths of the encrypted values of a document (its `sops` metadata left out)."""
    found: list[FieldPath] = []
    if isinstance(data, dict):
        for key, value in data.items():
            if not path and key == "sops":
                continue
            found += encrypted_paths(value, path + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += encrypted_paths(value, path + (i,))
    elif is_value_encrypted(data):
        found.append(path)
    return found


def secret_values_encrypted(data: Any) -> bool:
    """Whether every value of a Secret's data and stringData is encrypted (none is in clear)."""
    for group in SECRET_VALUES:
        values = data.get(group) if isinstance(data, dict) else None
        if isinstance(values, dict) and not all(is_value_encrypted(v) for v in values.values()):
            return False
    return True


def _at(data: Any, path: FieldPath) -> Any:
    for part in path:
        if isinstance(part, int) and isinstance(data, list) and part < len(data):
            data = data[part]
        elif isinstance(part, str) and isinstance(data, dict):
            data = data.get(part)
        else:
            return None
    return data


def _text(value: Any) -> str:
    """A decrypted scalar as a message would quote it ("" for a mapping or list: their parts are
    encrypted values of their own)."""
    if isinstance(value, bool):
        return str(value).lower()
    return "" if isinstance(value, (dict, list)) or value is None else str(value)


def _placeholders(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _placeholders(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_placeholders(v) for v in data]
    if is_value_encrypted(data):
        found = ENC.match(data)
        assert found is not None
        return _PLACEHOLDER.get(found.group(1), "")
    return data


def _describe(data: Any, file: str, decrypted: bool) -> EncryptedDocument:
    kind, name = _at(data, ("kind",)), _at(data, ("metadata", "name"))
    clear = lambda v: v if isinstance(v, str) and not is_value_encrypted(v) else ""
    return EncryptedDocument(file, clear(kind), clear(name) if clear(kind) else "", decrypted)


class Sealed:
    """The encrypted documents of one file, and what becomes of them (see the module's text)."""

    def __init__(self, file: str, documents: list) -> None:
        self.file = file
        self.documents = documents  # yamlpos Documents, as read from the encrypted file
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.described: list[EncryptedDocument] = []
        self.hidden: dict[int, list[str]] = {}  # document index -> dotted paths of encrypted values
        # document index -> whether a Secret there had every data/stringData value encrypted
        self.secrets_sealed: dict[int, bool] = {}
        self.placeholders = False  # the documents given out hold placeholders, not decrypted values
        self.host_side = False  # a decryption failed for want of a key (or sops) on this host
        # document index -> (dotted path, decrypted value as text) of each value that was encrypted:
        # hidden from the problems found in the document (a value of the wrong type is quoted there)
        self.opened: dict[int, list[tuple[str, str]]] = {}

    @property
    def wanted(self) -> bool:
        """Whether the file is (or claims to be) SOPS-encrypted."""
        return any(is_encrypted(d.data) for d in self.documents)

    def keep(self, document: Any, problems: list[Problem]) -> list[Problem]:
        """The problems found in a document: less those about a placeholder (shape checks only); with
        the decrypted values hidden (decrypted documents)."""
        if self.placeholders:
            return [p for p in problems if not self.about_placeholder(document, p)]
        opened = self.opened.get(document.index)
        return [self._hide(p, opened) for p in problems] if opened else problems

    @staticmethod
    def _hide(problem: Problem, opened: list[tuple[str, str]]) -> Problem:
        """A problem with every decrypted value taken out of its text: long ones wherever they
        appear; short ones (which could be any word) as whole words of a problem at their place."""
        message, hint = problem.message, problem.hint
        for path, value in opened:
            if not value:
                continue
            here = problem.path == path or problem.path.startswith((path + ".", path + "["))
            if len(value) >= 4 or here:
                pattern = re.escape(value) if len(value) >= 4 else rf"(?<!\w){re.escape(value)}(?!\w)"
                message = re.sub(pattern, "(encrypted value)", message)
                hint = re.sub(pattern, "(encrypted value)", hint)
        return problem if (message, hint) == (problem.message, problem.hint) else replace(problem, message=message, hint=hint)

    def mark(self, made: Any, document: Any) -> Any:
        """A Secret built from this file, marked as kept encrypted when all its values were."""
        if isinstance(made, Secret) and self.secrets_sealed.get(document.index, False):
            return replace(made, encrypted=True)
        return made

    def _mixed(self) -> bool:
        plain = [d for d in self.documents if isinstance(d.data, dict) and not is_encrypted(d.data)]
        if plain:
            self.problems.append(Problem(
                Origin(self.file, *plain[0].start), "",
                "this file mixes SOPS-encrypted documents with plain ones: sops encrypts and checks a file as a whole",
                "keep the encrypted documents in a file of their own",
            ))
        return bool(plain)

    def _note(self, document: Any, decrypted: bool) -> None:
        self.described.append(_describe(document.data, self.file, decrypted))
        if _at(document.data, ("kind",)) == "Secret":
            self.secrets_sealed[document.index] = secret_values_encrypted(document.data)

    def decrypt(self, raw: bytes, decrypt: Decrypt, parse: Callable[[str, str], tuple[list, list[Problem]]]) -> list:
        """The documents with their values decrypted (positions as in the encrypted file); [] when a
        problem stopped it (in `problems`)."""
        if self._mixed():
            return []
        try:
            plain = decrypt(self.file, raw)
            text = plain.decode("utf-8")
        except DecryptionError as error:
            self.host_side = error.host_side
            return self._unread(error.message, error.hint)
        except UnicodeDecodeError:
            return self._unread("sops decrypted this file to text that is not UTF-8", "encrypt UTF-8 YAML")
        documents, problems = parse(text, self.file)
        decrypted = [d for d in documents if d.data is not None]
        if problems or len(decrypted) != len(self.documents):
            # Never quote the decrypted text: say where in the encrypted file, not what.
            return self._unread(f"sops decrypted this file to YAML podspec cannot read back as its {len(self.documents)} "
                                "document(s)", "check it with sops --decrypt FILE")
        out = []
        for sealed, opened in zip(self.documents, decrypted, strict=True):
            self._note(sealed, True)
            data = opened.data
            if isinstance(data, dict):
                data = {k: v for k, v in data.items() if k != "sops"}
            self.opened[sealed.index] = [(dotted(path), _text(_at(data, path))) for path in encrypted_paths(sealed.data)]
            out.append(replace(sealed, data=data))
        return out

    def _unread(self, message: str, hint: str) -> list:
        """The file could not be decrypted: a problem naming it; its documents' shapes still take part
        in the checks (a pod reading its Secret is not also told that the Secret is missing)."""
        self.problems.append(Problem(Origin(self.file), "", message, hint))
        return self.shapes(note=False)

    def shapes(self, note: bool = True) -> list:
        """The documents with placeholders for their encrypted values, to check their shape only."""
        if note and self._mixed():
            return []
        self.placeholders = True
        out = []
        for document in self.documents:
            if note:
                self._note(document, False)
            hidden = encrypted_paths(document.data)
            if any(path in hidden for path in _IDENTITY):
                if not note:
                    continue
                self.warnings.append(Problem(
                    Origin(self.file, *document.start), "",
                    "this document is SOPS-encrypted whole (its apiVersion, kind or name too): "
                    "validate cannot check it without the key; diff and apply decrypt it", ENCRYPT_HINT,
                ))
                continue
            self.hidden[document.index] = [dotted(p) for p in hidden]
            data = {k: v for k, v in document.data.items() if k != "sops"}
            out.append(replace(document, data=_placeholders(data)))
        return out

    def about_placeholder(self, document: Any, problem: Problem) -> bool:
        """Whether a problem found in a shape-checked document is about an encrypted value."""
        paths = self.hidden.get(document.index, ())
        return any(problem.path == p or problem.path.startswith((p + ".", p + "[")) for p in paths)
