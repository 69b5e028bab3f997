"""`$(VAR)` in command, args and env values: expanded as Kubernetes (and `podman kube play` since
4.7) expands it, in what podspec sends to Podman; the intent keeps the manifest's text. A reference
to a variable whose value is a Secret's is left as written, with a warning at its place (an error
with --strict): podspec never puts a Secret's value on a command line or in a plain env value."""

from __future__ import annotations

from pathlib import Path

import pytest

from podspec.engine.specgen import container_body
from podspec.expansion import escape, expand, references
from podspec.export.inspected import PodData, export
from podspec.labels import Role
from podspec.loader import load
from podspec.reconcile.intent import container_spec
from tests.unit.test_exporter import IMAGES, managed

VARS = {"A": "one", "B": "two $(A)", "EMPTY": "", "X.Y-z": "dotted"}


@pytest.mark.parametrize("text, expected", [
    ("plain", "plain"),
    ("$(A)", "one"),
    ("x=$(A),y=$(A)", "x=one,y=one"),
    ("$(A)$(EMPTY)$(A)", "oneone"),
    ("$(B)", "two $(A)"),  # a value is not expanded again
    ("$(X.Y-z)", "dotted"),  # the name is whatever stands before the first ')'
    ("$(NOPE)", "$(NOPE)"),  # undefined: as written
    ("$()", "$()"),
    ("$$(A)", "$(A)"),  # the escape
    ("$$$(A)", "$one"),
    ("$$$$(A)", "$$(A)"),
    ("a$$b", "a$b"),  # `$$` is one `$` anywhere
    ("$A $1 $", "$A $1 $"),  # a `$` before another character, or at the end: as written
    ("$(A", "$(A"),  # not closed: as written
    ("$($(A)", "$($(A)"),  # the name `$(A` is no variable
    ("$(A $(A)", "$(A $(A)"),
    ("($(A))", "(one)"),
    ("$(A))", "one)"),
    ("é$(A)é", "éoneé"),
    ("", ""),
])
def test_expand_follows_kubernetes_rules(text: str, expected: str):
    assert expand(text, VARS.get) == expected


@pytest.mark.parametrize("text", ["$(A)", "$$(A)", "$$", "$", "a$b", "$(", "$(A", "x$$$(A)y", "$($(A))"])
def test_escape_gives_the_text_back_whatever_the_variables(text: str):
    assert expand(escape(text), VARS.get) == text


def test_references_lists_the_names_read():
    assert references("$(A) $$(B) $(C $(D)") == ["A", "C $(D"]


POD = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {greeting: hello, PORT: "1"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {token: s3cr3t-value}
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
    - name: a
      image: alpine
      command: [app, "--token=$(TOKEN)", "--port=$(PORT)", "$$(PORT)", "$(UNKNOWN)", "--url=$(URL)"]
      args: ["$(GREETING) $(CFG_PORT)", "$(SECRET_URL)"]
      envFrom:
        - {configMapRef: {name: settings}, prefix: CFG_}
      env:
        - name: TOKEN
          valueFrom: {secretKeyRef: {name: creds, key: token}}
        - name: EARLY
          value: "$(PORT)"
        - name: PORT
          value: "8080"
        - name: GREETING
          valueFrom: {configMapKeyRef: {name: settings, key: greeting}}
        - name: URL
          value: "http://h:$(PORT)/$(CFG_greeting)"
        - name: SECRET_URL
          value: "http://u:$(TOKEN)@h"
"""


def _loaded(tmp_path: Path):
    path = tmp_path / "p.yaml"
    path.write_text(POD)
    return path, load([str(path)])


def test_what_podman_gets_is_expanded_and_the_intent_keeps_the_text(tmp_path: Path):
    _, loaded = _loaded(tmp_path)
    pod = loaded.pods[0]
    c = pod.containers[0]
    body = container_body(pod, c, Role.CONTAINER, {})
    assert body["entrypoint"] == ["app", "--token=$(TOKEN)", "--port=8080", "$(PORT)", "$(UNKNOWN)",
                                  "--url=http://h:8080/hello"]
    assert body["command"] == ["hello 1", "$(SECRET_URL)"]
    # An env value sees only the variables above it (and every envFrom key); one that holds a
    # Secret's value keeps its text.
    assert body["env"]["EARLY"] == "$(PORT)"
    assert body["env"]["URL"] == "http://h:8080/hello"
    assert body["env"]["SECRET_URL"] == "http://u:$(TOKEN)@h"
    assert "s3cr3t" not in repr(body)
    intent = container_spec(pod, c)
    assert intent["command"][2] == "--port=$(PORT)" and intent["env"]["URL"] == "http://h:$(PORT)/$(CFG_greeting)"


def test_only_references_to_a_secret_are_warnings_at_their_place(tmp_path: Path):
    path, loaded = _loaded(tmp_path)
    found = sorted(str(w).replace(str(path), "F") for w in loaded.warnings if "$(" in str(w))
    assert len(found) == 3, found
    assert all("from a Secret" in w and "exec app --password=" in w and "s3cr3t" not in w for w in found), found
    places = sorted(tuple(w.split(": ", 2)[0:2]) for w in found)
    assert places == [
        ("F:18:22", "spec.containers[0].command[1]"),
        ("F:19:41", "spec.containers[0].args[1]"),  # SECRET_URL holds the Secret's value
        ("F:34:11", "spec.containers[0].env[5].value"),
    ], places


def test_export_gives_back_the_text_podspec_expanded():
    """Podman holds the expanded command: export writes the manifest's text (from podspec's record)
    when it expands to it, so that the exported manifest does not differ from the running one."""
    applied = {"image": "busybox:latest", "command": ["sh", "-c"], "args": ["echo $(PORT) $$(PORT) $(NOPE) $(TOKEN)"],
               "env": {"PORT": "8080", "TOKEN": "(secret creds key token)"}}
    c = managed("a", "container", applied, Env=["PATH=/bin", "PORT=8080", "TOKEN=*******"],
                Cmd=["echo 8080 $(PORT) $(NOPE) $(TOKEN)"], Entrypoint=["sh", "-c"])
    c["Path"], c["Args"] = "sh", ["-c", "echo 8080 $(PORT) $(NOPE) $(TOKEN)"]
    pod = {"Name": "web", "Hostname": "", "InfraConfig": {}, "Labels": {}}
    [exported] = export([PodData(pod, (c,), IMAGES)]).pods
    assert exported.containers[0].command == ("sh", "-c")
    assert exported.containers[0].args == ("echo $(PORT) $$(PORT) $(NOPE) $(TOKEN)",)

    # Not what podspec recorded (made by hand, or the record is stale): Podman's text, escaped.
    c["Config"]["Cmd"] = c["Args"][1:] = ["echo 9090 $(PORT) $$"]
    [exported] = export([PodData(pod, (c,), IMAGES)]).pods
    assert exported.containers[0].args == ("echo 9090 $$(PORT) $$$",)
    assert expand(exported.containers[0].args[0], {"PORT": "1"}.get) == "echo 9090 $(PORT) $$"
