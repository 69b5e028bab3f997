"""A diff (text, JSON, markdown for a pull request's comment, a saved plan) shows a changed field's
old and new values; the places whose values may be secret (secrets.may_be_secret: probe httpHeaders,
annotations and labels under a secret-looking key, as env values whose name looks secret) are
shown as (redacted): `Authorization: Bearer <token>` used to appear in every diff of a probe."""

from __future__ import annotations

from podspec.reconcile.changes import field_changes
from podspec.secrets import REDACTED

OLD = {
    "containers": {"a": {
        "readinessProbe": {"handler": "httpGet", "path": "/", "httpHeaders": ["Authorization: Bearer OLDTOKEN1"]},
        "annotations": {"example.com/api-token": "OLDANNOTATION", "example.com/owner": "team-a"},
        "env": {"API_KEY": "sha256:0", "MODE": "a"},
    }},
    "labels": {"db-password": "OLDLABEL"},
}


def _new(**changes) -> dict:
    import copy

    new = copy.deepcopy(OLD)
    a = new["containers"]["a"]
    a["readinessProbe"]["httpHeaders"] = changes.get("headers", a["readinessProbe"]["httpHeaders"])
    a["annotations"] = changes.get("annotations", a["annotations"])
    new["labels"] = changes.get("labels", new["labels"])
    return new


def shown(old, new) -> str:
    return repr([(c.path, c.old, c.new) for c in field_changes(old, new)])


def test_a_changed_header_value_is_redacted_and_its_name_shown():
    text = shown(OLD, _new(headers=["Authorization: Bearer NEWTOKEN2"]))
    assert "TOKEN" not in text and f"Authorization: {REDACTED}" in text


def test_a_header_carrying_no_credentials_is_shown_as_it_is():
    text = shown(OLD, _new(headers=["Authorization: Bearer OLDTOKEN1", "X-Probe: ready", "Cookie: session=S1"]))
    assert "X-Probe: ready" in text and "S1" not in text and f"Cookie: {REDACTED}" in text


def test_a_header_added_or_the_whole_probe_changed_is_redacted_too():
    assert "TOKEN" not in shown(OLD, _new(headers=["Authorization: Bearer OLDTOKEN1", "X-Key: NEWTOKEN3"]))
    old = {"containers": {"a": {}}}
    assert "TOKEN" not in shown(old, OLD) and "OLDANNOTATION" not in shown(old, OLD)


def test_annotations_and_labels_under_secret_looking_keys_are_redacted_others_shown():
    text = shown(OLD, _new(annotations={"example.com/api-token": "NEWANNOTATION", "example.com/owner": "team-b"},
                           labels={"db-password": "NEWLABEL"}))
    assert "ANNOTATION" not in text and "LABEL" not in text
    assert "team-a" in text and "team-b" in text
    text = shown({"containers": {"a": {}}, "labels": {}}, OLD)
    assert "OLDLABEL" not in text and "OLDANNOTATION" not in text and "team-a" in text


def test_export_redacts_probe_header_values_unless_asked():
    """export wrote an httpGet probe's `Authorization: Bearer <token>` in clear while it hid
    secret-looking env values (--show-secrets shows both)."""
    from podspec.export.inspected import redact_secrets
    from podspec.model import Container, EnvVar, Pod, Probe, ProbeHandler

    probe = Probe(ProbeHandler.HTTP_GET, path="/", port=80,
                  headers=(("Authorization", "Bearer TOKEN"), ("X-Api-Key", "K"), ("X-Probe", "ready")))
    pod = Pod(name="web", containers=(Container(name="a", image="alpine", readiness_probe=probe,
                                                 env=(EnvVar("API_KEY", "KEYVALUE"), EnvVar("MODE", "fast"))),))
    [cleaned], count = redact_secrets([pod])
    container = cleaned.containers[0]
    assert count == 3  # a plain header (X-Probe) is exported as it is: the export applies again as it came
    assert container.readiness_probe.headers == (("Authorization", REDACTED), ("X-Api-Key", REDACTED), ("X-Probe", "ready"))
    assert [e.value for e in container.env] == [REDACTED, "fast"]


def test_an_exported_header_placeholder_is_refused_like_an_env_one(tmp_path):
    from podspec.errors import ManifestError
    from podspec.loader import load

    path = tmp_path / "p.yaml"
    path.write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n    - name: a\n"
                    "      image: alpine\n      readinessProbe:\n        httpGet:\n          path: /\n          port: 80\n"
                    "          httpHeaders: [{name: Authorization, value: (redacted)}]\n")
    try:
        load([str(path)])
    except ManifestError as error:
        [problem] = error.problems
        assert "header Authorization holds the placeholder (redacted)" in str(problem) and ":12:" in str(problem)
    else:
        raise AssertionError("a header placeholder was accepted")
