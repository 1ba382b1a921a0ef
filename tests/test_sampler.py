import numpy as np
import pytest
from scipy.stats import chisquare

from paperlib import mixing as mx
from paperlib.sampler import MixtureSampler

SIZES = {"big": 5000, "mid": 300, "small": 40}


def _lengths(seed=0):
    rng = np.random.default_rng(seed)
    return {t: rng.integers(3, 60, n) for t, n in SIZES.items()}


def test_task_frequencies_match_the_mixture():
    plan = mx.static(SIZES, 400, tau=3)
    s = MixtureSampler(plan, _lengths(), batch_size=32, seed=0)
    counts = np.zeros(3)
    for step in range(400):
        counts += np.bincount(s.batch(step)[:, 0], minlength=3)
    expected = plan.mixture_at(0).p * counts.sum()
    assert chisquare(counts, expected).pvalue > 1e-3
    # and a wrong mixture is rejected by the same test
    assert chisquare(counts, mx.proportional(list(SIZES.values())) * counts.sum()).pvalue < 1e-6


def test_without_replacement_within_an_epoch_and_epoch_counts():
    plan = mx.static(SIZES, 50, rates=[0.0, 0.0, 1.0])
    s = MixtureSampler(plan, _lengths(), batch_size=8, seed=3, pool_batches=1)
    drawn = np.concatenate([s.batch(step)[:, 1] for step in range(50)])  # 400 draws of a 40-example task
    for e in range(10):
        assert sorted(drawn[e * 40:(e + 1) * 40]) == list(range(40))  # a permutation per epoch
    assert not np.array_equal(drawn[:40], drawn[40:80])  # reshuffled each epoch
    assert s.epochs_seen()["small"] == pytest.approx(10.0)
    assert s.examples_seen() == {"big": 0, "mid": 0, "small": 400}


def test_bucketing_reduces_padding():
    plan = mx.static(SIZES, 64, tau=1)

    def padding(pool):
        s = MixtureSampler(plan, _lengths(), batch_size=16, seed=0, pool_batches=pool)
        real = padded = 0
        for step in range(64):
            b = s.batch(step)
            lens = np.array([_lengths()[list(SIZES)[k]][i] for k, i in b])
            real, padded = real + lens.sum(), padded + lens.max() * len(lens)
        return 1 - real / padded

    assert padding(16) < 0.5 * padding(1)


def test_pools_never_span_a_mixture_change():
    plan = mx.cooldown(SIZES, 40, switch=20)
    s = MixtureSampler(plan, _lengths(), batch_size=64, seed=0, pool_batches=16)
    after = np.concatenate([s.batch(step)[:, 0] for step in range(20)])
    # before the switch, tau=5 gives 'small' about 19%; proportional would give 0.7%
    assert (after == 2).mean() > 0.1
    late = np.concatenate([s.batch(step)[:, 0] for step in range(20, 40)])
    assert (late == 2).mean() < 0.03


@pytest.mark.parametrize("batching", ["examples", "tokens"])
@pytest.mark.parametrize("stop", [1, 7, 19, 20, 21, 33])
def test_exact_resume_across_schedule_changes_and_phases(stop, batching):
    plan = mx.order_matters(SIZES, 20, 20, pretrain_on="big", tau=5)
    make = lambda: MixtureSampler(plan, _lengths(), batch_size=8, seed=11, pool_batches=6, batching=batching)
    ref = make()
    full = [ref.batch(step) for step in range(40)]
    s = make()
    for step in range(stop):
        s.batch(step)
    state = s.state_dict()
    resumed = make()
    resumed.load_state_dict(state)
    for step in range(stop, 40):
        np.testing.assert_array_equal(resumed.batch(step), full[step])
    assert resumed.examples_seen() == ref.examples_seen()


def test_steps_must_be_consecutive_and_tasks_present():
    plan = mx.static(SIZES, 10, tau=1)
    s = MixtureSampler(plan, _lengths(), batch_size=4, seed=0)
    with pytest.raises(ValueError, match="expected step 0, got 3"):
        s.batch(3)
    with pytest.raises(ValueError, match=r"the data has no task\(s\) \['small'\]"):
        MixtureSampler(plan, {"big": np.ones(5), "mid": np.ones(5)}, batch_size=4, seed=0)


def _padded(lengths, batch):
    lens = np.array([lengths[list(SIZES)[k]][i] for k, i in batch])
    return lens.max() * len(lens)


def test_token_batching_balances_padded_tokens_and_draws_the_same_examples():
    plan = mx.static(SIZES, 48, tau=3)
    lengths = _lengths()
    by_examples = MixtureSampler(plan, lengths, batch_size=16, seed=5, pool_batches=16)
    by_tokens = MixtureSampler(plan, lengths, batch_size=16, seed=5, pool_batches=16, batching="tokens", min_batch=2)
    ex = [by_examples.batch(step) for step in range(48)]
    tok = [by_tokens.batch(step) for step in range(48)]
    for pool in range(3):  # the same examples per pool, only cut differently
        a = np.concatenate(ex[pool * 16:(pool + 1) * 16])
        b = np.concatenate(tok[pool * 16:(pool + 1) * 16])
        assert sorted(map(tuple, a)) == sorted(map(tuple, b))
    assert by_tokens.examples_seen() == by_examples.examples_seen()
    sizes = [len(b) for b in tok]
    assert min(sizes) >= 2 and max(sizes) > 16 > min(sizes)  # short batches hold more examples
    cost_ex = [_padded(lengths, b) for b in ex]
    cost_tok = [_padded(lengths, b) for b in tok]
    assert max(cost_tok) < 0.8 * max(cost_ex)  # the most expensive step is cheaper
    assert np.std(cost_tok) < 0.5 * np.std(cost_ex)


def test_token_balanced_bounds_is_optimal_on_a_hand_case():
    from paperlib.sampler import token_balanced_bounds

    # lengths 1,1,1,1,1,1,10,10 in 2 batches: [6 ones] costs 6, [10,10] costs 20 -- the best max is 20
    assert token_balanced_bounds(np.array([1, 1, 1, 1, 1, 1, 10, 10]), 2) == [0, 6, 8]
    assert token_balanced_bounds(np.array([1, 1, 1, 1, 1, 1, 10, 10]), 2, min_size=3) == [0, 5, 8]
    assert token_balanced_bounds(np.arange(1, 9), 8) == list(range(9))
    with pytest.raises(ValueError, match="cannot cut 8 examples into 3 batches of at least 3"):
        token_balanced_bounds(np.arange(8), 3, min_size=3)


# ---- added by mutation audit -----------------------------------------------------------

def test_batches_of_a_pool_come_in_shuffled_order():
    # the pool is sorted by length, but its batches must not reach the model shortest
    # first (a hidden length curriculum); 16 batches in sorted order by chance: 1/16!
    plan = mx.static(SIZES, 16, tau=1)
    lengths = _lengths()
    s = MixtureSampler(plan, lengths, batch_size=16, seed=0, pool_batches=16)
    longest = [max(lengths[list(SIZES)[k]][i] for k, i in s.batch(step)) for step in range(16)]
    assert longest != sorted(longest)


def test_a_boundary_step_ends_a_pool():
    # with a boundary at 10, the first 10 batches are those of a run that stops at 10
    # (a fork point: the prefix can be shared); without it the pool runs past 10
    plan = mx.static(SIZES, 40, tau=3)
    kw = dict(batch_size=8, seed=2, pool_batches=16)
    cut = MixtureSampler(plan, _lengths(), boundaries=(10,), **kw)
    short = MixtureSampler(plan.truncated(10), _lengths(), **kw)
    plain = MixtureSampler(plan, _lengths(), **kw)
    a = [cut.batch(step) for step in range(10)]
    b = [short.batch(step) for step in range(10)]
    c = [plain.batch(step) for step in range(10)]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert any(not np.array_equal(x, z) for x, z in zip(a, c))  # the boundary made a difference


def test_resume_refuses_another_seed_or_other_tasks():
    plan = mx.static(SIZES, 10, tau=1)
    s = MixtureSampler(plan, _lengths(), batch_size=4, seed=0)
    s.batch(0)
    state = s.state_dict()
    with pytest.raises(ValueError, match="different tasks or seed"):
        MixtureSampler(plan, _lengths(), batch_size=4, seed=1).load_state_dict(state)
    other = mx.static({"big": 5000, "mid": 300}, 10, tau=1)
    with pytest.raises(ValueError, match="different tasks or seed"):
        MixtureSampler(other, _lengths(), batch_size=4, seed=0).load_state_dict(state)


def test_token_batching_honours_min_batch():
    # a few very long examples: cost-balancing alone would give them batches of 1-2 rows,
    # but every data-parallel rank needs an example, so no batch may hold fewer than min_batch
    lengths = _lengths()
    lengths["small"] = np.where(np.arange(40) % 5 == 0, 500, 3)
    plan = mx.static(SIZES, 16, rates=[0.0, 0.0, 1.0])

    def sizes(min_batch):
        s = MixtureSampler(plan, lengths, batch_size=8, seed=1, pool_batches=8, batching="tokens", min_batch=min_batch)
        return [len(s.batch(step)) for step in range(16)]

    assert min(sizes(1)) < 4  # the constraint binds here
    assert min(sizes(4)) >= 4 and sum(sizes(4)) == 16 * 8
