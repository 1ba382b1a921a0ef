"""The models (paperlib.models): what a ModelConfig accepts, and what build_model builds from it."""

import pytest
import torch

from paperlib.models import ModelConfig, build_model, count_parameters

SMALL = dict(d_model=32, layers=2, heads=2, ffn=48, max_len=12)
VOCAB, PAD, BOS, EOS = 50, 0, 1, 2


@pytest.mark.parametrize("bad", [dict(d_model=0), dict(layers=0), dict(heads=0), dict(ffn=0), dict(max_len=0),
                                 dict(layers=-1)])
def test_sizes_must_be_positive(bad):
    with pytest.raises(ValueError, match=f"model.{next(iter(bad))} must be a positive integer"):
        ModelConfig(**{**SMALL, **bad})


def test_heads_must_divide_the_width():
    with pytest.raises(ValueError, match=r"model.d_model \(30\) must be divisible by model.heads \(4\)"):
        ModelConfig(**{**SMALL, "d_model": 30, "heads": 4})


@pytest.mark.parametrize("name", ["dropout", "attention_dropout"])
def test_dropouts_are_probabilities_below_one(name):
    for bad in (1.0, -0.1):
        with pytest.raises(ValueError, match=rf"model.{name} must be in \[0, 1\)"):
            ModelConfig(**{**SMALL, name: bad})
    assert getattr(ModelConfig(**{**SMALL, name: 0.0}), name) == 0.0  # no dropout is allowed


def test_an_unknown_kind_names_the_valid_ones():
    with pytest.raises(ValueError, match="unknown model kind 'seq2seq'; valid: translation, lm"):
        build_model(ModelConfig(**SMALL), "seq2seq", VOCAB, PAD, BOS, EOS)


@pytest.mark.parametrize("kind", ["translation", "lm"])
def test_the_model_has_the_configs_shape_and_tied_embeddings(kind):
    cfg = ModelConfig(**SMALL, dropout=0.1, attention_dropout=0.2)
    model = build_model(cfg, kind, VOCAB, PAD, BOS, EOS)
    # the output layer is the input embedding: one tensor, counted once
    assert model.get_output_embeddings().weight is model.get_input_embeddings().weight
    assert count_parameters(model) == sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())
    assert model.get_input_embeddings().weight.shape == (VOCAB, cfg.d_model)
    c = model.config
    if kind == "translation":
        assert len(model.model.encoder.layers) == len(model.model.decoder.layers) == cfg.layers
        assert model.model.encoder.layers[0].fc1.out_features == cfg.ffn
        assert c.encoder_attention_heads == c.decoder_attention_heads == cfg.heads
        assert (c.dropout, c.attention_dropout, c.activation_dropout) == (0.1, 0.2, 0.0)
        assert (c.pad_token_id, c.decoder_start_token_id, c.eos_token_id) == (PAD, BOS, EOS)
    else:
        assert len(model.transformer.h) == cfg.layers and c.n_head == cfg.heads
        assert model.transformer.h[0].mlp.c_fc.weight.shape[-1] == cfg.ffn
        assert (c.resid_pdrop, c.embd_pdrop, c.attn_pdrop) == (0.1, 0.1, 0.2)
        assert (c.pad_token_id, c.bos_token_id, c.eos_token_id) == (PAD, BOS, EOS)


@pytest.mark.parametrize("kind", ["translation", "lm"])
def test_the_model_takes_max_len_tokens(kind):
    cfg = ModelConfig(**SMALL)
    model = build_model(cfg, kind, VOCAB, PAD, BOS, EOS).eval()
    ids = torch.randint(3, VOCAB, (2, cfg.max_len))
    inputs = {"input_ids": ids, "decoder_input_ids": ids} if kind == "translation" else {"input_ids": ids}
    with torch.no_grad():
        assert model(**inputs).logits.shape == (2, cfg.max_len, VOCAB)


def test_the_defaults_are_the_mini_model():
    # the mini preset's model as presets.py sizes it: d=128, 2+2 layers, 1.45M parameters at vocab 4k
    model = build_model(ModelConfig(), "translation", 4000, PAD, BOS, EOS)
    assert count_parameters(model) / 1e6 == pytest.approx(1.45, abs=0.01)
