"""`$(VAR)` in command, args and env values: Kubernetes expands it from the container's variables;
podspec does not (it would put a Secret's value on the command line, where `podman inspect` shows
it), so the container got the text as written without a word. Now each reference to a variable of
the container is a warning at its place (an error with --strict) that says so and what to do."""

from __future__ import annotations

from pathlib import Path

from podspec.loader import load

POD = """\
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
      command: [app, "--token=$(TOKEN)", "--mode=$(MODE)", "$$(TOKEN)", "$(UNKNOWN)"]
      env:
        - name: TOKEN
          valueFrom: {secretKeyRef: {name: creds, key: token}}
        - name: MODE
          value: fast
        - name: DERIVED
          value: "pre-$(MODE)"
"""


def test_each_reference_to_a_variable_is_a_warning_at_its_place(tmp_path: Path):
    path = tmp_path / "p.yaml"
    path.write_text(POD)
    warnings = [str(w).replace(str(path), "F") for w in load([str(path)]).warnings]
    found = [w for w in warnings if "$(" in w]
    assert len(found) == 3, found
    token, mode, derived = sorted(found)
    assert token.startswith("F:13:22: spec.containers[0].command[1]:") and "a Secret's value" in token
    assert "podman inspect" in token and "s3cr3t" not in token
    assert mode.startswith("F:13:42: spec.containers[0].command[2]:") and "not expanded" in mode
    assert derived.startswith("F:20:11: spec.containers[0].env[2].value:")
