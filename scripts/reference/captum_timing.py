"""Times Captum's LayerConductance on the benchmark-sized networks of issue 13 (models.BENCHMARK_MODELS): the peer
figures NigGen's Neuron Integrated Gradients must beat by 10x.

Per model: one sample, a zero baseline, 50 steps (method riemann_trapezoid, NigGen's default rule; the rule does not
change the cost), one LayerConductance call per attribute layer (Captum attributes one layer per call; NigGen scores
every attribute layer in one call), float32, torch.set_num_threads(1), Captum's default internal_batch_size (all 51
points in one batch). A run is the sum of the calls for all attribute layers; after one warm-up run, the median of
--runs runs is reported (wall time, and the process's CPU time over the same calls). Prints one JSON line per model.

Run: bash scripts/reference/run.sh timing [--runs N] [names...]
"""

import os

# torch.set_num_threads(1) bounds PyTorch's pool, not OpenBLAS's own threads: one thread means both (set before torch loads).
for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse
import json
import statistics
import time
import warnings

import torch

import captum
from captum.attr import LayerConductance

import models
from make_reference import prepare, random_inputs

warnings.filterwarnings("ignore", category=UserWarning)

N_STEPS = 50


def time_model(spec, runs):
    model = prepare(spec)  # non-trivial BatchNorm statistics, eval mode, float32
    generator = torch.Generator().manual_seed(3)
    x = random_inputs(spec, 1, generator)
    baseline = torch.zeros_like(x)
    layers = [(field, LayerConductance(model, model.get_submodule(path))) for field, path in spec.attribute_layers]

    def one_run():
        per_layer, cpu = {}, 0.0
        for field, method in layers:
            start, start_cpu = time.perf_counter(), time.process_time()
            method.attribute(x, baseline, target=0, n_steps=N_STEPS, method="riemann_trapezoid")
            per_layer[field] = time.perf_counter() - start
            cpu += time.process_time() - start_cpu
        return per_layer, cpu

    # Warm-up: first-call allocations, hook setup and PyTorch's per-shape caches. A small model timed first in its
    # process measured 1.7x slower than after a larger one, however long its warm-up (DigitNet 3.8 ms against 2.2):
    # models.BENCHMARK_MODELS puts it last, so the peer is timed at its faster figure.
    for _ in range(3):
        one_run()
    results, cpu_times = zip(*[one_run() for _ in range(runs)])
    totals = [sum(r.values()) for r in results]
    return {
        "model": spec.name,
        "niggen_class": spec.csharp,
        "input": list(spec.input_shape),
        "attribute_layers": [f for f, _ in spec.attribute_layers],
        "parameters": sum(p.numel() for p in model.parameters()),
        "n_steps": N_STEPS,
        "threads": torch.get_num_threads(),
        "runs": runs,
        "median_s": round(statistics.median(totals), 5),
        "min_s": round(min(totals), 5),
        "max_s": round(max(totals), 5),
        # CPU time of the process over the same calls: on a shared, oversubscribed machine it is closer to what the
        # calls cost on an idle core than wall time, which includes the time the thread waited for a core.
        "median_cpu_s": round(statistics.median(cpu_times), 5),
        "per_layer_median_s": {f: round(statistics.median(r[f] for r in results), 5) for f, _ in spec.attribute_layers},
        "torch": torch.__version__,
        "captum": captum.__version__,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="benchmark models to time (default: all)")
    parser.add_argument("--runs", type=int, default=7, help="timed runs per model (median reported)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    for spec in models.BENCHMARK_MODELS:
        if not args.names or spec.name in args.names:
            print(json.dumps(time_model(spec, args.runs)), flush=True)


if __name__ == "__main__":
    main()
