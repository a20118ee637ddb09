#!/usr/bin/python3
"""Issue 19 table from bench/results/big/*.json: per model and figure, min / median over the repetitions for CnnGen, ONNX
Runtime, TorchSharp and PyTorch tuned, with achieved GFLOP/s (FLOPs from <m>.flops.json, 2 FLOP per multiply-add; training
step = 3x forward) and the Vector512 FMA peak of the same run.   /usr/bin/python3 bench/summarize_big.py bench/results/big"""
import json
import os
import sys

d = sys.argv[1] if len(sys.argv) > 1 else "bench/results/big"


def load(f):
    p = os.path.join(d, f)
    return json.load(open(p)) if os.path.exists(p) else {}


peak = load("peak.json")
print(f"FMA peak this run: {json.dumps(peak)[:300]}\n")
ENGINES = [("CnnGen", "cnngen"), ("ORT 1.32", "ort"), ("TorchSharp 0.107", "torchsharp"), ("PyTorch tuned", "torch")]
for m, title in [("resnet18", "ResNet-18 (224², 1000 classes)"), ("effb0", "EfficientNet-B0 (224²)"), ("cifar", "CIFAR ResNet (32²)")]:
    fl = load(m + ".flops.json").get("forward_flop_per_image")
    if not fl:
        continue
    res = {p: load(f"{p}_{m}.json") for _, p in ENGINES}
    print(f"### {title}: {fl / 1e9:.3f} GFLOP forward per image")
    print("| figure | " + " | ".join(e for e, _ in ENGINES) + " |")
    print("|---|" + "---|" * len(ENGINES))
    for key, label, batch, mult in [("infer_b1_1t", "batch-1 latency, 1 thread", 1, 1), ("infer_b1_2t", "batch-1 latency, 2 threads", 1, 1),
                                    ("infer_b8_1t", "batch-8 inference, 1 thread", 8, 1), ("infer_b8_2t", "batch-8 inference, 2 threads", 8, 1),
                                    ("train_b32_1t", "training step b32, 1 thread", 32, 3), ("train_b32_2t", "training step b32, 2 threads", 32, 3),
                                    ("train_b64_1t", "training step b64, 1 thread", 64, 3), ("train_b64_2t", "training step b64, 2 threads", 64, 3)]:
        cells = []
        for _, p in ENGINES:
            r = res[p].get(key)
            if not r:
                cells.append("—")
                continue
            mn, md = r["min_us"], r["median_us"]
            gf = fl * batch * mult / (mn * 1e3)
            if batch == 1:
                cells.append(f"{mn / 1e3:.2f} / {md / 1e3:.2f} ms ({gf:.0f} GFLOP/s)")
            else:
                cells.append(f"{batch / (mn * 1e-6):.1f} / {batch / (md * 1e-6):.1f} img/s ({gf:.0f} GFLOP/s)")
        if any(c != "—" for c in cells):
            print(f"| {label} | " + " | ".join(cells) + " |")
    diffs = ", ".join(f"{e} {res[p]['max_abs_diff_vs_torch']:.1e}" for e, p in ENGINES if "max_abs_diff_vs_torch" in res[p])
    print(f"\nmax |logits − PyTorch's| on the check input: {diffs}\n")
print("Cells: min / median over the repetitions (each the median over the timing window); latency in ms, throughput in img/s.")
