"""The published schema: a valid draft 2020-12 schema, strict, and read by the fast check correctly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from podspec.loader.fastcheck import UnsupportedSchema, compile_schema
from podspec.loader.schema import schema

ROOT = Path(__file__).resolve().parents[2]


def test_schema_is_valid_draft_2020_12_and_the_shipped_copy():
    Draft202012Validator.check_schema(schema())
    assert schema() == json.loads((ROOT / "schemas/manifest.schema.json").read_text())


def objects(node, path=""):
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            yield path, node
        for key, value in node.items():
            yield from objects(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from objects(value, f"{path}/{i}")


def test_every_object_we_define_refuses_unknown_fields():
    free = {"", "/$defs/status", "/$defs/stringMap", "/$defs/claimSpec/properties/selector",
            "/$defs/claimSpec/properties/dataSource", "/$defs/claimSpec/properties/dataSourceRef",
            "/$defs/claimSpec/properties/resources/properties/requests",
            "/$defs/claimSpec/properties/resources/properties/limits",
            "/$defs/clusterStorage"}  # a cluster's disk: its fields are the cluster's, ignored with a warning
    loose = [
        path for path, node in objects(schema())
        if "additionalProperties" not in node and path not in free and "/if" not in path
        and node.get("$ref") != "#/$defs/clusterOnly"  # accepted as Kubernetes has it, with a warning
    ]
    assert loose == []


def test_pod_security_fields_for_a_later_policy_are_there():
    defs = schema()["$defs"]
    assert {"hostPID", "hostIPC", "securityContext", "hostNetwork"} <= set(defs["podSpec"]["properties"])
    assert {"runAsUser", "runAsGroup", "runAsNonRoot", "seccompProfile", "appArmorProfile", "sysctls", "supplementalGroups",
            "fsGroup", "seLinuxOptions", "fsGroupChangePolicy", "seLinuxChangePolicy",
            "windowsOptions"} == set(defs["podSecurityContext"]["properties"])
    assert {"allowPrivilegeEscalation", "runAsNonRoot", "seccompProfile", "procMount", "appArmorProfile",
            "capabilities", "privileged"} <= set(defs["securityContext"]["properties"])


def test_fast_check_refuses_keywords_it_does_not_know():
    with pytest.raises(UnsupportedSchema):
        compile_schema({"type": "object", "oneOf": [{"type": "string"}]})
    with pytest.raises(UnsupportedSchema):
        compile_schema({"enum": [1, 2]})


@pytest.mark.parametrize(
    ("instance", "valid"),
    [(1, True), (1.0, True), (True, False), (1.5, False), ("1", False)],
)
def test_fast_check_integer_semantics_match_jsonschema(instance, valid):
    check = compile_schema({"type": "integer"})
    assert check(instance) is valid
    assert Draft202012Validator({"type": "integer"}).is_valid(instance) is valid
