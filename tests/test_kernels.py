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
    the same rate, and neighbours must not be correlated."""
    torch.manual_seed(1)
    y = kernels.dropout(torch.ones(4 * 100_000), 0.5).view(-1, 4) == 0
    se = math.sqrt(0.25 / 100_000)
    for k in range(4):
        assert abs(float(y[:, k].float().mean()) - 0.5) < 4 * se
    both = float((y[:, 0] & y[:, 1]).float().mean())
    assert abs(both - 0.25) < 4 * math.sqrt(0.25 * 0.75 / 100_000)


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
    with kernels.cpu_training(torch.device("cpu")):
        assert torch.equal(F.dropout(x, 0.25, training=False), x)  # evaluation: untouched
        assert torch.equal(torch.softmax(x, -1), torch.softmax(x, -1))  # other calls pass through
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
