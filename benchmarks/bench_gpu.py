"""Model FLOPs utilisation on a GPU (skipped without one): a paper-size pre-LN
encoder-decoder (Order Matters Table 3: 3+3 layers, d 512, FFN 2048, 8 heads) trained on
random token batches with fused AdamW, in fp32 with TF32 matmuls and in bf16 autocast.

FLOPs per step ≈ 6 × (encoder parameters × source tokens + (decoder parameters + output
layer) × target tokens); attention's sequence-length terms are left out (small at 64
tokens), so the MFU is slightly understated. Peak: the GPU's dense bf16 / TF32 rate."""

from __future__ import annotations

import time

import torch

from paperlib.models import ModelConfig, build_model
from paperlib.train import use_gpu_kernels_for_varying_shapes

PEAK = {"H100": {"bf16": 989e12, "tf32": 495e12}, "H200": {"bf16": 989e12, "tf32": 495e12},
        "A100": {"bf16": 312e12, "tf32": 156e12}}


def _flops_per_step(model, batch: int, src: int, tgt: int) -> float:
    enc = sum(p.numel() for n, p in model.named_parameters() if ".encoder.layers." in n)
    dec = sum(p.numel() for n, p in model.named_parameters() if ".decoder.layers." in n)
    out = model.config.d_model * model.config.vocab_size
    return 6.0 * (enc * batch * src + (dec + out) * batch * tgt)


def steps_per_second(model_cfg: ModelConfig, batch: int, vocab: int, bf16: bool, steps: int = 30) -> float:
    """Training steps/s of a randomly initialised translation model on one random batch of
    full-length sequences (fused AdamW; bf16 autocast or TF32), after 5 warm-up steps."""
    torch.manual_seed(0)
    seq = model_cfg.max_len
    model = build_model(model_cfg, "translation", vocab, 0, 2, 3).cuda()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)
    x = torch.randint(4, vocab, (batch, seq), device="cuda")
    y = torch.randint(4, vocab, (batch, seq), device="cuda")

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
            logits = model(input_ids=x, decoder_input_ids=y).logits
        torch.nn.functional.cross_entropy(logits.float().reshape(-1, vocab), y.reshape(-1)).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    for _ in range(5):
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    torch.cuda.synchronize()
    return steps / (time.perf_counter() - start)


def run(batch: int = 256, seq: int = 64, vocab: int = 32000, steps: int = 30) -> dict:
    if not torch.cuda.is_available():
        return {"skipped": "no CUDA device"}
    use_gpu_kernels_for_varying_shapes()
    name = torch.cuda.get_device_name()
    peak = next((v for k, v in PEAK.items() if k in name), None)
    out = {"device": name, "batch": batch, "tokens_per_side": seq}
    cfg = ModelConfig(d_model=512, layers=3, heads=8, ffn=2048, max_len=seq)
    flops = _flops_per_step(build_model(cfg, "translation", vocab, 0, 2, 3), batch, seq, seq)
    for precision in ("tf32", "bf16"):
        rate = steps_per_second(cfg, batch, vocab, bf16=precision == "bf16", steps=steps)
        out[precision] = {"steps_per_s": rate, "tflops": flops * rate / 1e12,
                          "mfu": flops * rate / peak[precision] if peak else None}
    return out
