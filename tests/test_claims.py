import pytest

from paperlib import claims


def test_better_uses_the_seed_spread():
    assert claims.better([1.0, 1.1], [2.0, 2.05]) == claims.HOLDS
    assert claims.better([2.0, 2.1], [1.0, 1.05]) == claims.FAILS
    assert claims.better([1.0, 1.8], [1.5, 1.6]) == claims.INCONCLUSIVE  # spread 0.8 > difference
    assert claims.better(3.0, 2.0, lower_is_better=False) == claims.HOLDS
    assert claims.better(1.0, 1.02, margin=0.05) == claims.INCONCLUSIVE


def test_verdict_validation_and_storage(tmp_path):
    with pytest.raises(ValueError, match="status must be"):
        claims.Verdict("x", "y", "maybe")
    v = claims.verdict("A beats B", "Paper, Fig. 1", claims.HOLDS, a=1.23456789, b=[1, 2])
    assert v.numbers == {"a": 1.2346, "b": [1, 2]}
    claims.record("nb", "smoke", "Title", [v], out_dir=tmp_path)
    loaded = claims.load("smoke", tmp_path)
    assert loaded["nb"]["verdicts"][0]["status"] == "holds"
    assert len(claims.table([v])) == 1
