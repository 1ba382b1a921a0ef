import contextlib
import math

import pytest
import torch
import torch.nn.functional as F

from paperlib import kernels
from paperlib.models import ModelConfig, build_model


def test_dropout_drops_at_the_rate_asked_and_keeps_the_expectation():
    torch.manual_seed(0)
    x = torch.full((400_000,), 2.0)
    for p in (0.1, 0.3):
        y = kernels.dropout(x, p)
        dropped = float((y == 0).float().mean())
        se = math.sqrt(p * (1 - p) / x.numel())
        assert abs(dropped - p) < 4 * se, (p, dropped)
        kept = y[y != 0]
        assert torch.allclose(kept, torch.full_like(kept, 2 / (1 - round(p * 65536) / 65536)))
        assert abs(float(y.mean()) - 2.0) < 4 * 2 * math.sqrt(p / (1 - p) / x.numel())


def test_each_16_bit_slice_of_a_draw_is_an_independent_mask_element():
    """Four mask elements share one 64-bit draw: each position within the draw must drop at
    the rate asked (p = 0.1 tests the low bits of the slice too), and no two positions may be
    correlated."""
    torch.manual_seed(1)
    draws, p = 200_000, 0.1
    dropped = (kernels.dropout(torch.ones(4 * draws), p) == 0).view(-1, 4).float()
    se = math.sqrt(p * (1 - p) / draws)
    for k in range(4):
        assert abs(float(dropped[:, k].mean()) - p) < 4 * se
    for i in range(4):
        for j in range(i + 1, 4):
            both = float((dropped[:, i] * dropped[:, j]).mean())
            assert abs(both - p * p) < 4 * math.sqrt(p * p * (1 - p * p) / draws), (i, j, both)


def test_dropout_is_a_function_of_the_torch_seed_and_its_gradient_is_the_mask():
    x = torch.randn(3, 5, 7, requires_grad=True)
    torch.manual_seed(3)
    a = kernels.dropout(x, 0.2)
    torch.manual_seed(3)
    b = kernels.dropout(x, 0.2)
    assert torch.equal(a, b) and a.shape == x.shape
    a.sum().backward()
    scale = 65536 / (65536 - round(0.2 * 65536))
    assert torch.equal(x.grad, torch.where(a.detach() == 0, 0.0, scale))
    assert torch.allclose(a.detach(), x.detach() * x.grad)
    assert kernels.dropout(x, 0.0) is x
    with pytest.raises(ValueError, match=r"in \[0, 1\)"):
        kernels.dropout(x, 1.0)


def test_cpu_training_routes_functional_and_module_dropout_and_nothing_else():
    x = torch.randn(64, 32)
    module = torch.nn.Dropout(0.25)
    torch.manual_seed(5)
    expected = kernels.dropout(x, 0.25)
    for call in (lambda: F.dropout(x, p=0.25, training=True), lambda: F.dropout(x, 0.25), lambda: module(x)):
        torch.manual_seed(5)
        with kernels.cpu_training(torch.device("cpu")):
            got = call()
        assert torch.equal(got, expected)
    outside = torch.softmax(x, -1)
    with kernels.cpu_training(torch.device("cpu")):
        assert torch.equal(F.dropout(x, 0.25, training=False), x)  # evaluation: untouched
        assert torch.equal(torch.softmax(x, -1), outside)  # other calls pass through
    torch.manual_seed(5)
    assert not torch.equal(F.dropout(x, 0.25), expected)  # outside: PyTorch's own masks


def test_eager_attention_on_cpu_gives_the_same_model_function():
    torch.manual_seed(0)
    model = build_model(ModelConfig(d_model=32, heads=2, ffn=64, layers=1, max_len=16), "translation", 50, 0, 1, 2).eval()
    inputs = {"input_ids": torch.randint(3, 50, (4, 9)), "attention_mask": torch.ones(4, 9, dtype=torch.long),
              "decoder_input_ids": torch.randint(3, 50, (4, 7))}
    inputs["attention_mask"][0, 6:] = 0
    before = model(**inputs).logits
    kernels.prefer_eager_attention(model, torch.device("cpu"))
    assert model.config._attn_implementation == "eager"
    assert torch.allclose(model(**inputs).logits, before, atol=1e-5)
    gpu_bound = build_model(ModelConfig(d_model=32, heads=2, ffn=64, layers=1, max_len=16), "lm", 50, 0, 1, 2)
    kernels.prefer_eager_attention(gpu_bound, torch.device("cuda"))
    assert gpu_bound.config._attn_implementation == "sdpa"


@pytest.mark.parametrize("kind", ["translation", "lm"])
def test_a_training_forward_draws_no_bernoulli_masks_under_cpu_training(kind):
    """Every dropout of a real model (MBart's hidden, eager attention and embedding dropout;
    GPT-2's nn.Dropout modules) goes through the cheap masks: no aten::bernoulli_ is left."""
    from torch.profiler import profile

    torch.manual_seed(0)
    model = build_model(ModelConfig(d_model=32, heads=2, ffn=64, layers=1, max_len=16), kind, 50, 0, 1, 2).train()
    kernels.prefer_eager_attention(model, torch.device("cpu"))
    inputs = {"input_ids": torch.randint(3, 50, (4, 9))}
    if kind == "translation":
        inputs |= {"attention_mask": torch.ones(4, 9, dtype=torch.long), "decoder_input_ids": torch.randint(3, 50, (4, 7))}

    def bernoulli_calls(mode):
        with profile() as prof, mode:
            model(**inputs).logits.sum().backward()
        return sum(e.count for e in prof.key_averages() if e.key == "aten::bernoulli_")

    assert bernoulli_calls(contextlib.nullcontext()) > 0  # PyTorch's own dropout draws them
    assert bernoulli_calls(kernels.cpu_training(torch.device("cpu"))) == 0


def _scalar_reads(fn) -> int:
    """How many times fn reads a tensor's value back to Python (`.item()`, `bool(t)`, ...):
    on a GPU each such read waits for every kernel queued before it."""
    from torch.profiler import profile

    with profile() as prof:
        fn()
    return sum(e.count for e in prof.key_averages() if e.key == "aten::_local_scalar_dense")


@pytest.mark.parametrize("kind", ["translation", "lm"])
def test_host_built_masks_give_the_same_logits_and_read_nothing_back_from_the_device(kind):
    """The GPU's training step hands scaled-dot-product attention masks built on the host:
    the same model function as transformers' own masks from the 2-D padding mask (padded and
    unpadded batches), without transformers' reads of mask values in the forward pass."""
    from paperlib.batches import per_example_loss

    torch.manual_seed(0)
    model = build_model(ModelConfig(d_model=32, heads=2, ffn=64, layers=2, max_len=16, dropout=0.0, attention_dropout=0.0),
                        kind, 100, 0, 1, 2)
    assert model.config._attn_implementation == "sdpa"
    ids = torch.randint(3, 100, (4, 10))
    extra = {"decoder_input_ids": torch.randint(3, 100, (4, 7))} if kind == "translation" else {}
    labels = extra["decoder_input_ids"] if kind == "translation" else ids
    for padded in (True, False):
        mask = torch.ones(4, 10, dtype=torch.long)
        if padded:
            mask[1, 6:] = mask[3, 8:] = 0
        theirs = {"input_ids": ids, "attention_mask": mask, **extra}
        ours = kernels.host_attention_masks(theirs, kind)  # read where the batch is built: free
        assert (ours["attention_mask"] is None) == (kind == "translation" and not padded)
        with torch.no_grad():
            assert torch.allclose(model(**ours).logits, model(**theirs).logits, atol=1e-6)

        def step(inputs):
            logits = model(**inputs).logits
            per_example_loss(logits, labels, 0.1)[0].mean().backward()

        assert _scalar_reads(lambda: step(theirs)) > 0  # transformers asks the masks on the device
        assert _scalar_reads(lambda: step(ours)) == 0


def test_dropout_refuses_a_negative_probability_and_keeps_a_near_one_probability_finite():
    """p < 0 is no probability (it would scale every element down); p just below 1 rounds to
    2^16 levels and must still drop all but 1 level in 2^16, kept ones scaled by 2^16, not
    divide by zero."""
    x = torch.ones(4096)
    with pytest.raises(ValueError, match=r"in \[0, 1\)"):
        kernels.dropout(x, -0.1)
    torch.manual_seed(0)
    y = kernels.dropout(torch.ones(1 << 18), 1 - 1e-6)
    assert torch.isfinite(y).all()
    kept = y[y != 0]
    assert torch.equal(kept, torch.full_like(kept, 65536.0))
    assert 0 < kept.numel() < 20  # expected 4 of 2^18


def test_dropout_at_a_rate_that_rounds_to_zero_draws_nothing():
    """p below 2^-17 rounds to 0 levels: x itself, and torch's generator is not advanced."""
    x = torch.randn(100)
    torch.manual_seed(7)
    assert kernels.dropout(x, 1e-6) is x and kernels.dropout(x, 0.0) is x
    after = torch.rand(3)
    torch.manual_seed(7)
    assert torch.equal(after, torch.rand(3))


def test_cpu_training_leaves_inplace_dropout_and_gpus_to_pytorch():
    assert isinstance(kernels.cpu_training(torch.device("cuda")), contextlib.nullcontext)
    assert not isinstance(kernels.cpu_training(torch.device("cpu")), contextlib.nullcontext)
    torch.manual_seed(2)
    x = torch.ones(2000)
    with kernels.cpu_training(torch.device("cpu")):
        y = F.dropout(x, 0.5, True, True)  # in place: PyTorch's own (bernoulli) dropout
    assert y.data_ptr() == x.data_ptr() and int((x == 0).sum()) > 500
    assert torch.equal(x[x != 0], torch.full_like(x[x != 0], 2.0))


def test_host_masks_are_the_causal_and_padding_masks_by_definition():
    """lm: position i attends j iff j <= i and j is not padding; translation: the source
    padding mask (batch, 1, 1, S), None without padding, and a causal (1, 1, T, T) decoder."""
    keep = torch.tensor([[1, 1, 0], [1, 1, 1]])
    lm = kernels.host_attention_masks({"input_ids": torch.zeros(2, 3, dtype=torch.long), "attention_mask": keep}, "lm")
    expected = torch.tensor([[[j <= i and bool(keep[b, j]) for j in range(3)] for i in range(3)] for b in range(2)])
    assert lm["attention_mask"].shape == (2, 1, 3, 3) and torch.equal(lm["attention_mask"][:, 0], expected)
    dec = torch.zeros(2, 4, dtype=torch.long)
    tr = kernels.host_attention_masks({"attention_mask": keep, "decoder_input_ids": dec}, "translation")
    assert torch.equal(tr["attention_mask"], keep.bool()[:, None, None, :])
    causal = torch.tensor([[j <= i for j in range(4)] for i in range(4)])
    assert torch.equal(tr["decoder_attention_mask"], causal[None, None])
    full = kernels.host_attention_masks({"attention_mask": torch.ones(2, 3), "decoder_input_ids": dec}, "translation")
    assert full["attention_mask"] is None
    with pytest.raises(ValueError, match="unknown model kind"):
        kernels.host_attention_masks({"attention_mask": keep}, "seq2seq")
