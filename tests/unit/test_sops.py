"""SOPS-encrypted manifests in the loader (pure, with a decryptor handed in), the decryptor over the
real sops and age (no Podman), and the policy that refuses Secrets kept in plain text."""

from __future__ import annotations

import pytest

from podspec.errors import DecryptionError, ManifestError
from podspec.loader import load
from podspec.policy import Policy, check
from podspec.run.sops import Sops, failure
from tests.sopskit import age_key, encrypt, sops

VALUE = "hunter2-Qz9"  # looked for in every message

PLAIN_SECRET = f"""\
apiVersion: v1
kind: Secret
metadata:
  name: db
type: Opaque
stringData:
  password: {VALUE}
"""

POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: app
spec:
  containers:
    - name: main
      image: docker.io/library/busybox:latest
      ports:
        - containerPort: 80
      volumeMounts:
        - {name: creds, mountPath: /run/creds}
  volumes:
    - name: creds
      secret:
        secretName: db
"""

ENC = "ENC[AES256_GCM,data:Zm9v,iv:aXY=,tag:dGFn,type:{}]"
SOPS_META = """\
sops:
    age:
        - recipient: age1qqqq
          enc: x
    lastmodified: "2026-12-06T00:00:00Z"
    mac: ENC[AES256_GCM,data:bWFj,iv:aXY=,tag:dGFn,type:str]
    version: 3.11.0
"""


def sealed(body: str) -> str:
    return body + SOPS_META


ENCRYPTED_SECRET = sealed(f"""\
apiVersion: v1
kind: Secret
metadata:
    name: db
type: Opaque
stringData:
    password: {ENC.format('str')}
""")


def write(tmp_path, name: str, text: str) -> str:
    (tmp_path / name).write_text(text)
    return str(tmp_path / name)


def decrypting_to(plain: str, calls: list | None = None):
    def decrypt(file: str, raw: bytes) -> bytes:
        if calls is not None:
            calls.append((file, raw))
        return plain.encode()
    return decrypt


# ----------------------------------------------------------------------------- the loader, pure


def test_an_encrypted_secret_is_decrypted_by_the_function_given_and_keeps_its_file_positions(tmp_path):
    calls: list = []
    secret = write(tmp_path, "db.yaml", "# the database\n" + ENCRYPTED_SECRET)
    state = load([secret, write(tmp_path, "pod.yaml", POD)], decrypt=decrypting_to(PLAIN_SECRET, calls))
    assert calls == [(secret, ("# the database\n" + ENCRYPTED_SECRET).encode())]  # the file's bytes, as they are
    [db] = state.secrets
    assert db.value("password") == VALUE.encode() and db.encrypted
    assert str(db.origin) == f"{secret}:2:1"  # the encrypted file's line, not the decrypted text's
    assert [str(e) for e in state.encrypted] == [f"{secret}: Secret db"] and state.encrypted[0].decrypted
    [pod] = state.pods
    assert [f.path for f in pod.volumes[0].files] == ["password"]


def test_a_plain_secret_is_not_marked_encrypted_and_no_decryptor_is_asked(tmp_path):
    calls: list = []
    state = load([write(tmp_path, "db.yaml", PLAIN_SECRET)], decrypt=decrypting_to("", calls))
    assert calls == [] and not state.secrets[0].encrypted and state.encrypted == ()


def test_a_decryption_failure_is_one_problem_naming_the_file_and_nothing_else(tmp_path):
    def refuse(file: str, raw: bytes) -> bytes:
        raise DecryptionError("cannot decrypt this SOPS file: no key for it was found", "give the key")

    secret = write(tmp_path, "db.yaml", ENCRYPTED_SECRET)
    with pytest.raises(ManifestError) as caught:
        load([secret, write(tmp_path, "pod.yaml", POD)], decrypt=refuse)
    # The pod's reference to the Secret is not also reported as missing.
    assert [str(p) for p in caught.value.problems] == [
        f"{secret}: cannot decrypt this SOPS file: no key for it was found (give the key)"]


def test_a_file_mixing_encrypted_and_plain_documents_is_refused_before_sops_is_asked(tmp_path):
    calls: list = []
    mixed = write(tmp_path, "mixed.yaml", ENCRYPTED_SECRET + "---\n" + POD)
    with pytest.raises(ManifestError) as caught:
        load([mixed], decrypt=decrypting_to(PLAIN_SECRET, calls))
    assert calls == []
    [problem] = caught.value.problems
    assert problem.origin.file == mixed and "mixes SOPS-encrypted documents with plain ones" in problem.message


def test_decrypted_yaml_that_does_not_match_the_file_is_refused_without_quoting_it(tmp_path):
    secret = write(tmp_path, "db.yaml", ENCRYPTED_SECRET)
    with pytest.raises(ManifestError) as caught:
        load([secret], decrypt=decrypting_to(PLAIN_SECRET + "---\n" + PLAIN_SECRET))
    assert "cannot read back as its 1 document(s)" in str(caught.value) and VALUE not in str(caught.value)


def test_without_a_decryptor_the_shape_is_checked_and_the_document_listed_as_encrypted(tmp_path):
    secret = write(tmp_path, "db.yaml", ENCRYPTED_SECRET)
    state = load([secret, write(tmp_path, "pod.yaml", POD)], defined_elsewhere=True)
    assert [(str(e), e.decrypted) for e in state.encrypted] == [(f"{secret}: Secret db", False)]
    assert state.warnings == ()  # the pod's Secret is defined: by the encrypted file


def test_without_a_decryptor_a_wrong_shape_is_still_found(tmp_path):
    broken = sealed(f"""\
apiVersion: v1
kind: Secret
metadata:
    name: db
tpye: Opaque
stringData:
    password: {ENC.format('str')}
""")
    with pytest.raises(ManifestError) as caught:
        load([write(tmp_path, "db.yaml", broken)])
    assert "tpye" in str(caught.value)


def test_without_a_decryptor_problems_about_placeholders_are_not_said(tmp_path):
    """An encrypted containerPort or image is checked for being there, not for its (unknown) value."""
    pod = sealed(f"""\
apiVersion: v1
kind: Pod
metadata:
    name: app
spec:
    containers:
        - name: main
          image: {ENC.format('str')}
          ports:
            - containerPort: {ENC.format('int')}
""")
    state = load([write(tmp_path, "pod.yaml", pod)])
    assert [p.name for p in state.pods] == ["app"]


def test_a_document_encrypted_whole_is_a_warning_for_validate(tmp_path):
    whole = sealed(f"apiVersion: {ENC.format('str')}\nkind: {ENC.format('str')}\nmetadata:\n    name: {ENC.format('str')}\n")
    path = write(tmp_path, "whole.yaml", whole)
    state = load([path])
    [warning] = state.warnings
    assert warning.origin.file == path and "encrypted whole" in warning.message and "encrypted-regex" in warning.hint
    assert [str(e) for e in state.encrypted] == [f"{path}: a document"]


# ----------------------------------------------------------------------------- the policy


def test_require_encrypted_secrets_refuses_plain_secrets_only_when_asked(tmp_path):
    plain = load([write(tmp_path, "plain.yaml", PLAIN_SECRET)])
    assert check(plain, Policy()) == ()
    [problem] = check(plain, Policy(require_encrypted_secrets=True))
    assert problem.origin.file.endswith("plain.yaml") and "Secret db is kept in plain text" in problem.message
    assert VALUE not in str(problem)
    encrypted = load([write(tmp_path, "db.yaml", ENCRYPTED_SECRET)])
    assert check(encrypted, Policy(require_encrypted_secrets=True)) == ()


def test_require_encrypted_secrets_refuses_a_secret_whose_values_sops_left_in_clear(tmp_path):
    """encrypted_regex that leaves stringData out: the file is SOPS's, the password is not hidden."""
    half = sealed(f"""\
apiVersion: v1
kind: Secret
metadata:
    name: db
stringData:
    password: {VALUE}
    other: {ENC.format('str')}
""")
    state = load([write(tmp_path, "db.yaml", half)], decrypt=decrypting_to(PLAIN_SECRET))
    [problem] = check(state, Policy(require_encrypted_secrets=True))
    assert "Secret db is kept in plain text" in problem.message


def test_the_project_file_and_the_environment_switch_it_on(tmp_path):
    from podspec.run.manifests import policy_from
    from podspec.run.projectfile import load as load_project

    (tmp_path / "podspec.toml").write_text("[policy]\nrequire_encrypted_secrets = true\n")
    found = load_project(tmp_path / "podspec.toml")
    assert found.as_env()["PODSPEC_REQUIRE_ENCRYPTED_SECRETS"] == "1"
    assert policy_from(None, None, None, None, found.as_env()).require_encrypted_secrets
    assert not policy_from(None, None, None, None, {}).require_encrypted_secrets
    assert policy_from(None, None, None, None, {}, require_encrypted_secrets=True).require_encrypted_secrets
    (tmp_path / "podspec.toml").write_text("[policy]\nrequire_encrypted_secrets = \"yes\"\n")
    with pytest.raises(Exception, match="require_encrypted_secrets must be true or false"):
        load_project(tmp_path / "podspec.toml")


# ----------------------------------------------------------------------------- sops' answers


@pytest.mark.parametrize(("code", "stderr", "said"), [
    (128, "Did not find keys in locations 'SOPS_AGE_KEY_FILE'", "no key for it was found"),
    (128, "identity did not match any of the recipients: incorrect identity", "is not one of its recipients"),
    (51, "MAC mismatch. File has 76..., computed BC...", "changed after it was encrypted"),
    (25, "Error walking tree: Could not decrypt value", "changed after it was encrypted"),
    (3, "could not write\nmore", "sops could not decrypt this file (exit 3): could not write"),
])
def test_sops_failures_say_why(code, stderr, said):
    assert said in failure(code, stderr).message


# ----------------------------------------------------------------------------- the real sops and age


@pytest.fixture
def keys(tmp_path):
    return age_key(tmp_path, "host.txt"), age_key(tmp_path, "other.txt")


def test_real_sops_decrypts_with_the_right_key_only(tmp_path, keys):
    host, other = keys
    path = write(tmp_path, "db.yaml", encrypt(PLAIN_SECRET, host))
    assert VALUE not in (tmp_path / "db.yaml").read_text()
    state = load([path], decrypt=Sops({"SOPS_AGE_KEY_FILE": str(host.file)}))
    assert state.secrets[0].value("password") == VALUE.encode() and state.secrets[0].encrypted
    in_env = load([path], decrypt=Sops({"HOME": str(tmp_path), "SOPS_AGE_KEY": host.file.read_text().splitlines()[-1]}))
    assert in_env.secrets == state.secrets

    for env, said in (({}, "no key for it was found"),
                      ({"SOPS_AGE_KEY_FILE": str(other.file)}, "is not one of its recipients"),
                      ({"SOPS_AGE_KEY": other.file.read_text().splitlines()[-1]}, "is not one of its recipients")):
        with pytest.raises(ManifestError) as caught:
            load([path], decrypt=Sops({"HOME": str(tmp_path), **env}))
        assert said in str(caught.value) and path in str(caught.value) and VALUE not in str(caught.value)


def test_real_sops_finds_a_changed_file(tmp_path, keys):
    host, _ = keys
    text = encrypt(PLAIN_SECRET, host)
    decrypt = Sops({"SOPS_AGE_KEY_FILE": str(host.file)})
    # A value's ciphertext changed, and (separately) a value left in clear: the MAC covers both.
    lines = text.splitlines()
    i = next(i for i, line in enumerate(lines) if line.strip().startswith("password:"))
    start = lines[i].index("data:") + 5
    lines[i] = lines[i][:start] + ("A" if lines[i][start] != "A" else "B") + lines[i][start + 1:]
    for changed in ("\n".join(lines) + "\n", text.replace("name: db", "name: dc")):
        path = write(tmp_path, "db.yaml", changed)
        with pytest.raises(ManifestError) as caught:
            load([path], decrypt=decrypt)
        assert "changed after it was encrypted" in str(caught.value) and path in str(caught.value)


def test_a_re_encryption_with_a_new_data_key_gives_the_same_values(tmp_path, keys):
    host, other = keys
    path = write(tmp_path, "db.yaml", encrypt(PLAIN_SECRET, host))
    before = (tmp_path / "db.yaml").read_text()
    sops("--rotate", "--in-place", path, key=host)  # a new data key, every value encrypted again
    assert (tmp_path / "db.yaml").read_text() != before
    decrypt = Sops({"SOPS_AGE_KEY_FILE": str(host.file)})
    assert load([path], decrypt=decrypt).secrets == load([write(tmp_path, "plain.yaml", PLAIN_SECRET)]).secrets


def test_sops_not_installed_is_a_clear_problem(tmp_path, keys):
    host, _ = keys
    path = write(tmp_path, "db.yaml", encrypt(PLAIN_SECRET, host))
    with pytest.raises(ManifestError) as caught:
        load([path], decrypt=Sops({"SOPS_AGE_KEY_FILE": str(host.file)}, program=str(tmp_path / "no-sops")))
    assert "cannot run sops" in str(caught.value)


def test_a_problem_in_a_decrypted_value_never_quotes_it(tmp_path):
    encrypted = sealed(f"""\
apiVersion: v1
kind: Secret
metadata:
    name: db
stringData:
    pin: {ENC.format('int')}
    password: {ENC.format('str')}
""")
    plain = "apiVersion: v1\nkind: Secret\nmetadata: {name: db}\nstringData: {pin: 987654321, password: ok}\n"
    with pytest.raises(ManifestError) as caught:
        load([write(tmp_path, "db.yaml", encrypted)], decrypt=decrypting_to(plain))
    [problem] = caught.value.problems
    assert problem.path == "stringData.pin" and "987654321" not in str(problem)
    assert "got a number (redacted)" in problem.message  # a Secret's value is never quoted (issue 27), decrypted or not


def test_validate_with_the_project_files_switch_refuses_a_plain_secret(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from podspec.cli import app
    from podspec.cli.context import project_file

    (tmp_path / ".git").mkdir()  # the project file is looked for up to the repository's top
    (tmp_path / "podspec.toml").write_text("[policy]\nrequire_encrypted_secrets = true\n")
    write(tmp_path, "plain.yaml", PLAIN_SECRET)
    write(tmp_path, "db.yaml", ENCRYPTED_SECRET)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PODSPEC_REQUIRE_ENCRYPTED_SECRETS", raising=False)
    project_file.cache_clear()
    try:
        refused = CliRunner().invoke(app, ["validate", "plain.yaml"])
        assert refused.exit_code == 1 and "plain.yaml:1:1: Secret db is kept in plain text" in refused.stderr
        assert VALUE not in refused.stderr + refused.stdout
        assert CliRunner().invoke(app, ["validate", "db.yaml"]).exit_code == 0
    finally:
        project_file.cache_clear()


def test_any_document_may_be_encrypted_and_data_stays_base64(tmp_path, keys):
    """A Pod whose env values are encrypted (encrypted_regex ^value$), and a Secret's base64 data."""
    import base64

    host, _ = keys
    pod = POD.replace("      ports:\n", f"      env:\n        - {{name: API_URL, value: https://u:{VALUE}@api}}\n      ports:\n")
    secret = PLAIN_SECRET.replace(f"stringData:\n  password: {VALUE}\n",
                                  f"data:\n  password: {base64.b64encode(VALUE.encode()).decode()}\n")
    pod_file = write(tmp_path, "pod.yaml", encrypt(pod, host, regex="^value$"))
    secret_file = write(tmp_path, "db.yaml", encrypt(secret, host))
    assert VALUE not in (tmp_path / "pod.yaml").read_text()
    shapes = load([pod_file, secret_file])  # validate: no key
    assert [str(e) for e in shapes.encrypted] == [f"{pod_file}: Pod app", f"{secret_file}: Secret db"]
    state = load([pod_file, secret_file], decrypt=Sops({"SOPS_AGE_KEY_FILE": str(host.file)}))
    assert state.pods[0].containers[0].env[0].value == f"https://u:{VALUE}@api"
    assert state.secrets[0].value("password") == VALUE.encode()
