#!/usr/bin/python3
"""Summarize one bench/run.sh run: CnnGen vs PyTorch (best of eager and TorchScript) vs ONNX Runtime.
Usage: bench/summarize.py bench/results   (reads cnngen.json, torch_tuned.json, ort.json; prints markdown)"""
import json
import os
import sys

R = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def load(name):
    p = os.path.join(R, name)
    return json.load(open(p)) if os.path.exists(p) else None


cg, tt, ort = load("cnngen.json"), load("torch_tuned.json"), load("ort.json")


def torch_best(model, threads, key):
    """PyTorch at its best: the better of eager and each TorchScript variant."""
    vals = []
    for r in (tt or {}).get("runs", []) + (tt or {}).get("jit", []):
        if r["model"] == model and r["threads"] == threads and key in r:
            v = r[key]
            vals.append((v["median_us"] if key == "latency_b1" else v["images_per_s"], r.get("variant", "eager")))
    if not vals:
        return None, ""
    return (min(vals) if key == "latency_b1" else max(vals))


def ort_val(model, threads, key):
    for r in (ort or {}).get("runs", []):
        if r["model"] == model and r["threads"] == threads and key in r:
            return r[key]["median_us"] if key.startswith("latency") else r[key]["images_per_s"]
    return None


def fmt(v, unit):
    if v is None:
        return "n/a"
    return f"{v:,.1f} µs" if unit == "us" else f"{v:,.0f} img/s"


print("| model | measure | threads | CnnGen | PyTorch at its best | ONNX Runtime | CnnGen vs PyTorch | CnnGen vs ORT |")
print("|---|---|---|---|---|---|---|---|")
for m in ["A", "B", "C"]:
    if not cg or m not in cg:
        continue
    c = cg[m]
    rows = [
        ("batch-1 latency", 1, c["latency_b1_1t_us"], torch_best(m, 1, "latency_b1"), ort_val(m, 1, "latency_b1_iobinding"), "us"),
        ("batch-64 inference", 1, c["infer_b64_1t_img_s"], torch_best(m, 1, "infer_b64"), ort_val(m, 1, "infer_b64"), "ips"),
        ("batch-64 inference", 2, c["infer_b64_2t_img_s"], torch_best(m, 2, "infer_b64"), ort_val(m, 2, "infer_b64"), "ips"),
        ("batch-64 training step (Adam)", 1, c["train_b64_1t_img_s"], torch_best(m, 1, "train_b64"), None, "ips"),
        ("batch-64 training step (Adam)", 2, c["train_b64_2t_img_s"], torch_best(m, 2, "train_b64"), None, "ips"),
    ]
    for name, t, ours, (tv, tvar), ov, unit in [(r[0], r[1], r[2], r[3] if r[3][0] is not None else (None, ""), r[4], r[5]) for r in rows]:
        def ratio(peer):
            if peer is None or ours is None:
                return "n/a"
            if unit == "us":
                r = peer / ours  # latency: > 1 means CnnGen is faster
                return f"{r:.2f}× faster" if r >= 1 else f"{r:.2f}× (peer faster)"
            return f"{ours / peer:.2f}×"
        tdesc = fmt(tv, unit) + (f" ({tvar})" if tv is not None else "")
        print(f"| {m} | {name} | {t} | {fmt(ours, unit)} | {tdesc} | {fmt(ov, unit)} | {ratio(tv)} | {ratio(ov)} |")
