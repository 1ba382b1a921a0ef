import argparse
import json
from pathlib import Path

from . import bench_gpu, bench_sampler, bench_step, bench_trainer

parser = argparse.ArgumentParser(prog="python -m benchmarks")
parser.add_argument("--steps", type=int, default=60, help="training steps for the trainer benchmark")
args = parser.parse_args()
step = bench_step.run()
results = {"useful_flops_fraction": {"mini/cpu": step["useful_flops_fraction"]}, "step": step,
           "trainer": bench_trainer.run(args.steps), "sampler": bench_sampler.run(), "gpu": bench_gpu.run()}
text = json.dumps(results, indent=2)
print(text)
(Path(__file__).parent / "results.json").write_text(text + "\n")
