"""The split of one engine's tests into shards (tests/sharding.py, used by scripts/test.sh)."""

from __future__ import annotations

import json

import pytest

from tests import sharding


def test_heaviest_files_first_each_to_the_lightest_shard():
    weights = {"a.py": 10.0, "b.py": 7.0, "c.py": 6.0, "d.py": 4.0, "e.py": 1.0}
    shards = sharding.split(weights, 2)
    assert shards == [["a.py", "d.py"], ["b.py", "c.py", "e.py"]]  # 14 s and 14 s
    assert sorted(sum(shards, [])) == sorted(weights)  # every file in exactly one shard


def test_the_split_is_deterministic_for_equal_weights_and_any_order():
    one = sharding.split({"x.py": 1.0, "y.py": 1.0, "z.py": 1.0}, 2)
    other = sharding.split({"z.py": 1.0, "y.py": 1.0, "x.py": 1.0}, 2)
    assert one == other == [["x.py", "z.py"], ["y.py"]]


def test_more_shards_than_files_leaves_some_empty():
    assert sharding.split({"a.py": 3.0}, 3) == [["a.py"], [], []]


def test_unrecorded_files_weigh_their_tests_times_a_default():
    got = sharding.weights({"known.py": (3, True), "new_int.py": (2, True), "new_unit.py": (100, False)}, {"known.py": 50.0})
    assert got == {
        "known.py": 50.0,
        "new_int.py": 2 * sharding.DEFAULT_PODMAN_TEST,
        "new_unit.py": 100 * sharding.DEFAULT_UNIT_TEST,
    }


@pytest.mark.parametrize("value", ["", "2", "0/2", "3/2", "a/b", "1/2/3"])
def test_a_bad_shard_is_a_clear_error(value):
    with pytest.raises(ValueError, match="PODSPEC_TEST_SHARD"):
        sharding.parse_shard(value)


def test_runs_merge_into_one_record_per_engine(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"engine": "podman4", "files": {"t/x.py": 1.25, "t/y.py": 2.0}}))
    (tmp_path / "b.json").write_text(json.dumps({"engine": "podman5", "files": {"t/x.py": 3.0}}))
    (tmp_path / "c.json").write_text(json.dumps({"engine": "podman4", "files": {"t/x.py": 0.5}}))  # a run of one file
    merged = sharding.merge([tmp_path / "a.json", tmp_path / "b.json", tmp_path / "c.json"])
    assert merged == {"podman4": {"t/x.py": 1.2, "t/y.py": 2.0}, "podman5": {"t/x.py": 3.0}}
    record = tmp_path / "durations.json"
    record.write_text(json.dumps(merged))
    assert sharding.load_record("podman5", record) == {"t/x.py": 3.0}
    assert sharding.load_record("podman6", record) == {}
    assert sharding.load_record("podman4", tmp_path / "missing.json") == {}
