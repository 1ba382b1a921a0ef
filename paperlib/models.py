"""Models built from `transformers` configs with random initialisation (nothing from the hub).

- translation: a pre-LayerNorm encoder-decoder (mBART's layout: LayerNorm before each
  sub-layer, as Order Matters uses), tied input/output embeddings.
- lm: a decoder-only causal LM (GPT-2 layout, also pre-LN). Order Matters used mT5 span
  corruption and Upsample or Upweight? a Hugging Face decoder-only model; we use causal LM
  for both and say so in the report.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelConfig:
    """Model size. Defaults are the `mini` size (DESIGN.md pilot: 1.45M params, 0.145 s/step)."""

    d_model: int = 128          # hidden size
    layers: int = 2             # encoder layers and decoder layers (each) / LM layers
    heads: int = 4              # attention heads
    ffn: int = 512              # feed-forward width
    dropout: float = 0.1        # residual/embedding dropout (both papers: 0.1)
    attention_dropout: float = 0.1
    max_len: int = 64           # tokens per side; longer examples are truncated

    def __post_init__(self):
        from .checks import check_types

        check_types(self, "model.")
        for name in ("d_model", "layers", "heads", "ffn", "max_len"):
            if int(getattr(self, name)) <= 0:
                raise ValueError(f"model.{name} must be a positive integer, got {getattr(self, name)!r}")
        if self.d_model % self.heads:
            raise ValueError(f"model.d_model ({self.d_model}) must be divisible by model.heads ({self.heads})")
        for name in ("dropout", "attention_dropout"):
            if not 0 <= getattr(self, name) < 1:
                raise ValueError(f"model.{name} must be in [0, 1), got {getattr(self, name)!r}")


def build_model(cfg: ModelConfig, kind: str, vocab_size: int, pad_id: int, bos_id: int, eos_id: int) -> "torch.nn.Module":
    """A randomly initialised model for `kind` ("translation" or "lm")."""
    if kind == "translation":
        from transformers import MBartConfig, MBartForConditionalGeneration

        config = MBartConfig(
            vocab_size=vocab_size, d_model=cfg.d_model,
            encoder_layers=cfg.layers, decoder_layers=cfg.layers,
            encoder_attention_heads=cfg.heads, decoder_attention_heads=cfg.heads,
            encoder_ffn_dim=cfg.ffn, decoder_ffn_dim=cfg.ffn,
            dropout=cfg.dropout, attention_dropout=cfg.attention_dropout, activation_dropout=0.0,
            max_position_embeddings=cfg.max_len + 2, scale_embedding=True,
            pad_token_id=pad_id, bos_token_id=bos_id, eos_token_id=eos_id, decoder_start_token_id=bos_id,
            forced_eos_token_id=None, tie_word_embeddings=True, use_cache=True,
        )
        return MBartForConditionalGeneration(config)
    if kind == "lm":
        from transformers import GPT2Config, GPT2LMHeadModel

        config = GPT2Config(
            vocab_size=vocab_size, n_embd=cfg.d_model, n_layer=cfg.layers, n_head=cfg.heads,
            n_inner=cfg.ffn, n_positions=cfg.max_len, resid_pdrop=cfg.dropout, embd_pdrop=cfg.dropout,
            attn_pdrop=cfg.attention_dropout, bos_token_id=bos_id, eos_token_id=eos_id, pad_token_id=pad_id,
            tie_word_embeddings=True,
        )
        return GPT2LMHeadModel(config)
    raise ValueError(f"unknown model kind {kind!r}; valid: translation, lm")


def count_parameters(model: "torch.nn.Module") -> int:
    return sum(p.numel() for p in model.parameters())
