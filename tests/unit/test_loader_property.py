"""Random and mutated manifests: the loader returns a model or raises ManifestError, nothing else.

Also checks that the compiled yes/no schema check agrees with jsonschema on the same inputs.
"""

from __future__ import annotations

import copy
import io
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from podspec.errors import ManifestError
from podspec.loader import load
from podspec.loader.fastcheck import compile_schema
from podspec.loader.schema import schema

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SEEDS = [
    doc
    for path in sorted((FIXTURES / "valid").glob("*.yaml")) + sorted((FIXTURES / "equivalent").glob("*.yaml"))
    for doc in yaml.safe_load_all(path.read_text())
]
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True), st.text(max_size=20),
    st.sampled_from(["", "0.0.0.0", "CAP_X", "100m", "1e400", "Pod", "v1", "a" * 70, "-", "/abs", "../x", "nginx"]),
)
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)


def paths(doc: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += paths(value, prefix + (key,))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            found += paths(value, prefix + (i,))
    return found


@st.composite
def mutated(draw) -> Any:
    doc = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        target = draw(st.sampled_from(paths(doc)))
        if not target:
            continue
        parent = doc
        for part in target[:-1]:
            parent = parent[part]
        last = target[-1]
        action = draw(st.sampled_from(["drop", "replace", "inject", "duplicate"]))
        if action == "drop":
            del parent[last]
        elif action == "replace":
            parent[last] = draw(values)
        elif action == "inject" and isinstance(parent[last], dict):
            parent[last][draw(st.text(max_size=12))] = draw(values)
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))
    return doc


def load_text(text: str) -> None:
    try:
        load(["-"], stdin=io.StringIO(text))
    except ManifestError:
        pass


@SETTINGS
@given(mutated())
def test_mutated_manifests_load_or_raise_manifest_error(doc):
    load_text(yaml.safe_dump(doc))


@SETTINGS
@given(st.lists(mutated(), min_size=1, max_size=3))
def test_several_mutated_documents_in_one_stream(docs):
    load_text(yaml.safe_dump_all(docs))


@SETTINGS
@given(st.binary(max_size=300))
def test_random_bytes(raw):
    try:
        load(["-"], stdin=io.TextIOWrapper(io.BytesIO(raw)))
    except ManifestError:
        pass


@SETTINGS
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#,? \n\t0.")), max_size=120))
def test_random_yaml_punctuation(text):
    load_text(text)


@SETTINGS
@given(st.sampled_from(SEEDS), st.integers(0, 2000), st.binary(min_size=1, max_size=8))
def test_bytes_spliced_into_a_valid_file(doc, at, junk):
    raw = yaml.safe_dump(doc).encode()
    at %= len(raw)
    try:
        load(["-"], stdin=io.TextIOWrapper(io.BytesIO(raw[:at] + junk + raw[at:])))
    except ManifestError:
        pass


FAST = compile_schema(schema())
SLOW = Draft202012Validator(schema())


@SETTINGS
@given(st.one_of(mutated(), values))
def test_compiled_check_agrees_with_jsonschema(doc):
    assert FAST(doc) == SLOW.is_valid(doc)


def test_seeds_are_valid():
    assert SEEDS and all(FAST(doc) and SLOW.is_valid(doc) for doc in SEEDS)
