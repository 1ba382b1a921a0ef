import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperlib.data import splits


def _corpus(seed=0):
    rng = random.Random(seed)
    english = [f"english sentence {i}" for i in range(3000)]
    # the English side is shared across targets: "fi" is a subset of what "it" covers
    return {
        "en-it": [(e, f"it {e}") for e in english],
        "en-fi": [(e, f"fi {e}") for e in rng.sample(english, 300)],
        "en-sv": [(e, f"sv {e}") for e in rng.sample(english, 120)],
    }


def test_split_is_deterministic_and_order_free():
    a = splits.split_parallel(_corpus(), n_eval=100)
    shuffled = {t: random.Random(1).sample(p, len(p)) for t, p in _corpus().items()}
    b = splits.split_parallel(shuffled, n_eval=100)
    for task in a:
        for split in ("train", "valid", "test"):
            assert sorted(a[task][split]) == sorted(b[task][split])


def test_no_english_segment_leaks_between_any_train_and_any_heldout():
    out = splits.split_parallel(_corpus(), n_eval=100)
    train_en = {e for t in out.values() for e, _ in t["train"]}
    heldout_en = {e for t in out.values() for s in ("valid", "test") for e, _ in t[s]}
    assert train_en and heldout_en
    assert not train_en & heldout_en


def test_fixed_eval_sizes_shrink_for_tiny_tasks():
    out = splits.split_parallel(_corpus(), n_eval=100)
    assert len(out["en-it"]["valid"]) == 100 and len(out["en-it"]["test"]) == 100
    assert len(out["en-fi"]["valid"]) == 30  # 300 // 10
    assert len(out["en-sv"]["valid"]) == splits.MIN_EVAL


def test_only_other_tasks_heldout_english_is_dropped():
    c = _corpus()
    out = splits.split_parallel(c, n_eval=100)
    heldout = {t: {e for s in ("valid", "test") for e, _ in out[t][s]} for t in out}
    for task, pairs in c.items():
        others = set().union(*(h for t, h in heldout.items() if t != task))
        dropped = [p for p in pairs if p not in out[task]["train"] and p[0] not in heldout[task]]
        assert all(e in others for e, _ in dropped)
        assert len(out[task]["train"]) + sum(len(out[task][s]) for s in ("valid", "test")) + len(dropped) == len(pairs)


def test_documents_split_by_document():
    docs = [f"doc {i}\nline" for i in range(500)]
    out = splits.split_documents(docs, n_eval=40)
    assert len(out["valid"]) == 40 and len(out["test"]) == 40 and len(out["train"]) == 420
    assert not set(out["train"]) & (set(out["valid"]) | set(out["test"]))
    again = splits.split_documents(list(reversed(docs)), n_eval=40)
    assert sorted(again["valid"]) == sorted(out["valid"]) and sorted(again["test"]) == sorted(out["test"])


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=8), min_size=1, max_size=200, unique=True), st.floats(0.01, 1.0))
def test_subsample_size_and_determinism(items, fraction):
    a = splits.subsample(items, fraction)
    assert len(a) == max(1, round(len(items) * fraction))
    assert a == splits.subsample(items, fraction)
    assert all(x in items for x in a)


def test_stable_hash_is_stable():
    # a fixed value: changes to the hash would silently change every split
    assert splits.stable_hash("hello") == int.from_bytes(
        __import__("hashlib").blake2b(b"split\x00hello", digest_size=8).digest(), "big"
    )


def test_an_english_segment_with_several_translations_is_held_out_once():
    # DDTP has English segments with several translations: valid and test take k distinct
    # segments each, never the same one, and every translation of a held-out segment goes with it
    english = [f"segment {i}" for i in range(400)]
    pairs = [(e, f"{e} version {v}") for e in english for v in range(3)]
    out = splits.split_parallel({"en-xx": pairs}, n_eval=25)["en-xx"]
    valid_en, test_en = {e for e, _ in out["valid"]}, {e for e, _ in out["test"]}
    assert len(valid_en) == len(test_en) == 25 and not valid_en & test_en
    assert len(out["valid"]) == len(out["test"]) == 75 and len(out["train"]) == 3 * 350


def test_subsample_refuses_a_fraction_outside_zero_to_one():
    for fraction in (0, -0.5, 1.5):
        with pytest.raises(ValueError, match="subsample fraction must be in"):
            splits.subsample(["a", "b"], fraction)


def test_subsample_keeps_the_original_order():
    items = [f"item {i}" for i in range(200)]
    kept = splits.subsample(items, 0.3)
    assert kept == [x for x in items if x in set(kept)]
