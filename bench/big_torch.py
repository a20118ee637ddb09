#!/usr/bin/python3
"""Issue 19 peers, PyTorch side, for the ResNet-class models: ResNet-18 (torchvision resnet18, 3x224x224, 1000 classes),
EfficientNet-B0 (torchvision efficientnet_b0) and the CIFAR ResNet (samples/ResNet/CifarResNet.cs, restated in
bench/resnet_cifar_torch.py). For each model, with seeded random weights (batch-norm running statistics randomised too):
  bench/results/big/<m>.weights.safetensors   the state_dict (CnnGen loads it with LoadWeights)
  bench/results/big/<m>.onnx                  torch.onnx.export of the same model in eval mode (ONNX Runtime's input)
  bench/results/big/<m>.pt                   TorchScript (torch.jit.script) of the same model, for TorchSharp
  bench/results/big/<m>.check.safetensors     input x [2,...] and PyTorch's eval logits y: every engine checks against it
  bench/results/big/torch_<m>.json            PyTorch timings (--time): batch-1 latency, batch-8 throughput, 1 and 2 threads;
                                              training step (SGD momentum 0.9, cross-entropy), batch 32 and 64
Timings: min and median of --reps repetitions; each repetition is the median over --seconds of calls.
Run it through the tuned configuration (../shared/bench/README.md): bench/run.sh does.
    /usr/bin/python3 bench/big_torch.py --models cifar,resnet18,effb0 [--export] [--time] [--reps 3] [--seconds 1]"""
import argparse
import importlib.util
import json
import os
import statistics
import sys
import time

import torch
import torch.nn as nn
import torchvision

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "results", "big")


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    m = importlib.util.module_from_spec(spec)
    sys.argv, saved = [sys.argv[0]], sys.argv
    spec.loader.exec_module(m)
    sys.argv = saved
    return m


mp = load("mp", os.path.join(HERE, "..", "tools", "golden", "make_parity.py"))
rc = load("rc", os.path.join(HERE, "resnet_cifar_torch.py"))

SHAPES = {"cifar": (3, 32, 32), "resnet18": (3, 224, 224), "effb0": (3, 224, 224)}


def make(name):
    torch.manual_seed({"cifar": 1, "resnet18": 2, "effb0": 3}[name])
    m = {"cifar": rc.CifarResNet, "resnet18": torchvision.models.resnet18, "effb0": torchvision.models.efficientnet_b0}[name]()
    with torch.no_grad():  # random running statistics, so batch norm is not the identity in eval mode
        for mod in m.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.1, 0.1)
                mod.running_var.uniform_(0.5, 1.5)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.1, 0.1)
    return m


def export(name):
    os.makedirs(OUT, exist_ok=True)
    m = make(name).eval()
    sd = {k: v.detach().clone() for k, v in m.state_dict().items()}
    mp.write_safetensors(os.path.join(OUT, name + ".weights.safetensors"), list(sd.items()), {})
    g = torch.Generator().manual_seed(11)
    x = torch.rand((2,) + SHAPES[name], generator=g) * 2 - 1
    with torch.no_grad():
        y = m(x)
    mp.write_safetensors(os.path.join(OUT, name + ".check.safetensors"), [("x", x), ("y", y)], {})
    torch.onnx.export(m, x[:1], os.path.join(OUT, name + ".onnx"), input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}}, opset_version=13)
    # FLOPs, counted once here: 2 FLOP per multiply-add of every Conv2d and Linear (batch norm, activations, pooling,
    # SE scaling and residual adds not counted), per image at inference; a training step counts 3x the forward.
    macs = []

    def hook(mod, inp, out):
        if isinstance(mod, nn.Conv2d):
            macs.append(out[0].numel() * mod.in_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1])
        elif isinstance(mod, nn.Linear):
            macs.append(mod.in_features * mod.out_features)
    hs = [mm.register_forward_hook(hook) for mm in m.modules() if isinstance(mm, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        m(x[:1])
    for h in hs:
        h.remove()
    with open(os.path.join(OUT, name + ".flops.json"), "w") as f:
        json.dump({"forward_flop_per_image": 2 * sum(macs)}, f)
    try:
        ts = torch.jit.script(m)
    except Exception:
        ts = torch.jit.trace(m, x[:1])
    ts.save(os.path.join(OUT, name + ".pt"))  # TorchScript, for TorchSharp (torch.jit.load)
    print(f"{name}: wrote weights, check, onnx ({sum(p.numel() for p in m.parameters()):,} parameters)")


def median_call_us(fn, seconds, min_calls):
    ts, t_end = [], time.perf_counter() + seconds
    while len(ts) < min_calls or time.perf_counter() < t_end:
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e6)
    return statistics.median(ts)


def reps(fn, n, seconds, min_calls, warmup=2):
    for _ in range(warmup):
        fn()
    v = [median_call_us(fn, seconds, min_calls) for _ in range(n)]
    return {"min_us": round(min(v), 1), "median_us": round(statistics.median(v), 1), "reps_us": [round(a, 1) for a in v]}


def time_model(name, args):
    m = make(name)
    res = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        m.eval()
        with torch.inference_mode():
            for batch in (1, 8):
                x = torch.rand((batch,) + SHAPES[name])
                r = reps(lambda: m(x), args.reps, args.seconds, 3)
                res[f"infer_b{batch}_{threads}t"] = r
                print(f"  torch {name} inference b{batch} {threads}t: min {r['min_us']:.0f} µs, median {r['median_us']:.0f} µs", flush=True)
        if name == "effb0":
            continue  # training of EfficientNet-B0 is not part of issue 19's comparison
        m.train()
        opt = torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9)
        loss_fn = nn.CrossEntropyLoss()
        for batch in ((32,) if name == "resnet18" else (32, 64)):  # ResNet-18 at 224²: a few steps of batch 32
            x = torch.rand((batch,) + SHAPES[name])
            lab = torch.randint(0, 1000 if name == "resnet18" else 10, (batch,))

            def step():
                opt.zero_grad()
                loss_fn(m(x), lab).backward()
                opt.step()
            slow = name == "resnet18"
            r = reps(step, args.reps, 0.0, 1, 1) if slow else reps(step, args.reps, args.seconds, 3)
            res[f"train_b{batch}_{threads}t"] = r
            print(f"  torch {name} training b{batch} {threads}t: min {r['min_us']/1e3:.1f} ms, median {r['median_us']/1e3:.1f} ms", flush=True)
    with open(os.path.join(OUT, f"torch_{name}.json"), "w") as f:
        json.dump(res, f, indent=1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="cifar,resnet18,effb0")
    ap.add_argument("--export", action="store_true")
    ap.add_argument("--time", action="store_true")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=1.0)
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    print(f"PyTorch {torch.__version__}, torchvision {torchvision.__version__}")
    for name in args.models.split(","):
        if args.export:
            export(name)
        if args.time:
            time_model(name, args)


if __name__ == "__main__":
    main()
