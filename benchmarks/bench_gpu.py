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


def run(batch: int = 256, seq: int = 64, vocab: int = 32000, steps: int = 30) -> dict:
    if not torch.cuda.is_available():
        return {"skipped": "no CUDA device"}
    use_gpu_kernels_for_varying_shapes()
    name = torch.cuda.get_device_name()
    peak = next((v for k, v in PEAK.items() if k in name), None)
    out = {"device": name, "batch": batch, "tokens_per_side": seq}
    for precision in ("tf32", "bf16"):
        torch.manual_seed(0)
        model = build_model(ModelConfig(d_model=512, layers=3, heads=8, ffn=2048, max_len=seq), "translation",
                            vocab, 0, 2, 3).cuda()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)
        x = torch.randint(4, vocab, (batch, seq), device="cuda")
        y = torch.randint(4, vocab, (batch, seq), device="cuda")

        def step():
            with torch.autocast("cuda", dtype=torch.bfloat16, enabled=precision == "bf16"):
                logits = model(input_ids=x, decoder_input_ids=y).logits
            loss = torch.nn.functional.cross_entropy(logits.float().reshape(-1, vocab), y.reshape(-1))
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=True)

        for _ in range(5):
            step()
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(steps):
            step()
        torch.cuda.synchronize()
        per_step = (time.perf_counter() - start) / steps
        achieved = _flops_per_step(model, batch, seq, seq) / per_step
        out[precision] = {"steps_per_s": 1 / per_step, "tflops": achieved / 1e12,
                          "mfu": achieved / peak[precision] if peak else None}
    return out
