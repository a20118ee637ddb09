#!/usr/bin/env python3
"""Golden fixtures for CnnGen's losses, optimizers, gradient clipping and LR schedulers.

Run with Debian's PyTorch (1.13, CPU):
    /usr/bin/python3 tools/golden/make_optim_loss_golden.py
Writes:
    tests/Runtime.Tests/Fixtures/losses/losses.json
    tests/Runtime.Tests/Fixtures/optim/optimizers.json
    tests/Runtime.Tests/Fixtures/optim/schedulers.json
    tests/Runtime.Tests/Fixtures/optim/gradclip.json
All tensors are float32; values are written as the exact decimal of the float32 value (repr of the
Python double it converts to), so C# reads them back bit for bit.
"""
import json
import math
import os

import torch
import torch.nn.functional as F

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
FIX = os.path.join(ROOT, "tests", "Runtime.Tests", "Fixtures")


def flat(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def dump(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")
    print(path, os.path.getsize(path), "bytes")


# ----------------------------------------------------------------------------------------------
# Losses
# ----------------------------------------------------------------------------------------------
def loss_cases():
    g = torch.Generator().manual_seed(1234)
    cases = []

    def ce(name, batch, classes, scale, reduction, smoothing):
        x = (torch.randn(batch, classes, generator=g) * scale).float().requires_grad_(True)
        y = torch.randint(0, classes, (batch,), generator=g)
        loss = F.cross_entropy(x, y, reduction=reduction, label_smoothing=smoothing)
        loss.backward()
        cases.append(dict(name=name, kind="CrossEntropy", call=f"F.cross_entropy(x, y, reduction='{reduction}', label_smoothing={smoothing})",
                          batch=batch, classes=classes, reduction=reduction, labelSmoothing=smoothing,
                          input=flat(x), labels=y.tolist(), loss=float(loss), grad=flat(x.grad)))

    ce("ce_mean", 4, 10, 1.0, "mean", 0.0)
    ce("ce_sum", 3, 7, 2.0, "sum", 0.0)
    ce("ce_mean_ls0.1", 5, 10, 1.5, "mean", 0.1)
    ce("ce_sum_ls0.1", 6, 13, 1.0, "sum", 0.1)
    ce("ce_mean_large_logits", 4, 10, 40.0, "mean", 0.0)
    ce("ce_mean_ls0.25_large_logits", 3, 9, 30.0, "mean", 0.25)

    def nll(name, batch, classes, reduction):
        z = torch.randn(batch, classes, generator=g) * 2
        x = F.log_softmax(z, dim=1).detach().requires_grad_(True)
        y = torch.randint(0, classes, (batch,), generator=g)
        loss = F.nll_loss(x, y, reduction=reduction)
        loss.backward()
        cases.append(dict(name=name, kind="NllLoss", call=f"F.nll_loss(x, y, reduction='{reduction}')",
                          batch=batch, classes=classes, reduction=reduction, labelSmoothing=0.0,
                          input=flat(x), labels=y.tolist(), loss=float(loss), grad=flat(x.grad)))

    nll("nll_mean", 4, 10, "mean")
    nll("nll_sum", 5, 6, "sum")

    eps = 1e-7

    def scce(name, batch, classes, scale, reduction, extremes):
        z = torch.randn(batch, classes, generator=g) * scale
        p = F.softmax(z, dim=1)
        y = torch.randint(0, classes, (batch,), generator=g)
        if extremes:
            # exercise both clip ends: a label with probability exactly 0 and one with exactly 1
            p[0] = 0.0
            p[0, y[0]] = 1.0
            p[1, y[1]] = 0.0
        p = p.detach().float().requires_grad_(True)
        picked = torch.clamp(p, eps, 1 - eps).gather(1, y.view(-1, 1)).view(-1)
        per = -torch.log(picked)
        loss = per.mean() if reduction == "mean" else per.sum()
        loss.backward()
        cases.append(dict(name=name, kind="SparseCategoricalCrossEntropy",
                          call=f"-torch.log(torch.clamp(p, 1e-7, 1 - 1e-7).gather(1, y[:, None])).{reduction}()",
                          batch=batch, classes=classes, reduction=reduction, labelSmoothing=0.0,
                          input=flat(p), labels=y.tolist(), loss=float(loss), grad=flat(p.grad)))

    scce("scce_mean", 4, 10, 1.0, "mean", False)
    scce("scce_sum_clipped", 5, 8, 3.0, "sum", True)
    scce("scce_mean_clipped", 3, 5, 20.0, "mean", True)

    def mse(name, batch, classes, reduction):
        x = torch.randn(batch, classes, generator=g).requires_grad_(True)
        t = torch.randn(batch, classes, generator=g)
        loss = F.mse_loss(x, t, reduction=reduction)
        loss.backward()
        cases.append(dict(name=name, kind="Mse", call=f"F.mse_loss(x, t, reduction='{reduction}')",
                          batch=batch, classes=classes, reduction=reduction, labelSmoothing=0.0,
                          input=flat(x), target=flat(t), loss=float(loss), grad=flat(x.grad)))

    mse("mse_mean", 4, 5, "mean")
    mse("mse_sum", 3, 11, "sum")
    mse("mse_mean_37", 1, 37, "mean")
    return cases


# ----------------------------------------------------------------------------------------------
# Optimizers
# ----------------------------------------------------------------------------------------------
N = 37  # not a multiple of 8 or 16: exercises the scalar tails
STEPS = 5


def optimizer_cases():
    g = torch.Generator().manual_seed(4321)
    p0 = torch.randn(N, generator=g)
    grads = [torch.randn(N, generator=g) * (1.0 + 0.5 * k) for k in range(STEPS)]
    configs = [
        ("sgd_plain", "Sgd", "torch.optim.SGD([p], lr=0.1)", dict(lr=0.1)),
        ("sgd_momentum", "Sgd", "torch.optim.SGD([p], lr=0.1, momentum=0.9)", dict(lr=0.1, momentum=0.9)),
        ("sgd_nesterov", "Sgd", "torch.optim.SGD([p], lr=0.05, momentum=0.9, nesterov=True)", dict(lr=0.05, momentum=0.9, nesterov=True)),
        ("sgd_weight_decay", "Sgd", "torch.optim.SGD([p], lr=0.1, weight_decay=0.01)", dict(lr=0.1, weight_decay=0.01)),
        ("sgd_dampening", "Sgd", "torch.optim.SGD([p], lr=0.1, momentum=0.8, dampening=0.3)", dict(lr=0.1, momentum=0.8, dampening=0.3)),
        ("sgd_all", "Sgd", "torch.optim.SGD([p], lr=0.02, momentum=0.95, nesterov=True, weight_decay=0.05)",
         dict(lr=0.02, momentum=0.95, nesterov=True, weight_decay=0.05)),
        ("adam_default", "Adam", "torch.optim.Adam([p])", dict()),
        ("adam", "Adam", "torch.optim.Adam([p], lr=0.01)", dict(lr=0.01)),
        ("adam_weight_decay", "Adam", "torch.optim.Adam([p], lr=0.01, weight_decay=0.1)", dict(lr=0.01, weight_decay=0.1)),
        ("adam_amsgrad", "Adam", "torch.optim.Adam([p], lr=0.01, amsgrad=True)", dict(lr=0.01, amsgrad=True)),
        ("adam_betas_eps", "Adam", "torch.optim.Adam([p], lr=0.02, betas=(0.8, 0.99), eps=1e-6)", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6)),
        ("adamw_default", "AdamW", "torch.optim.AdamW([p])", dict()),
        ("adamw", "AdamW", "torch.optim.AdamW([p], lr=0.01, weight_decay=0.1)", dict(lr=0.01, weight_decay=0.1)),
        ("adamw_amsgrad", "AdamW", "torch.optim.AdamW([p], lr=0.01, weight_decay=0.05, amsgrad=True)", dict(lr=0.01, weight_decay=0.05, amsgrad=True)),
    ]
    cases = []
    for name, kind, call, kw in configs:
        p = p0.clone().requires_grad_(True)
        cls = dict(Sgd=torch.optim.SGD, Adam=torch.optim.Adam, AdamW=torch.optim.AdamW)[kind]
        kw_t = dict(kw)
        if kind == "Sgd" and "lr" not in kw_t:
            raise ValueError("SGD needs lr")
        opt = cls([p], foreach=False, **kw_t)
        after = []
        for k in range(STEPS):
            p.grad = grads[k].clone()
            opt.step()
            after.append(flat(p))
        opts = dict(kw)
        if "betas" in opts:
            opts["beta1"], opts["beta2"] = opts.pop("betas")
        cases.append(dict(name=name, kind=kind, call=call + ", foreach=False", options=opts, after=after))

    # an optimizer driven by a scheduler: the lr changes between steps
    p = p0.clone().requires_grad_(True)
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9, foreach=False)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    after = []
    for k in range(STEPS):
        p.grad = grads[k].clone()
        opt.step()
        sched.step()
        after.append(flat(p))
    cases.append(dict(name="sgd_momentum_steplr", kind="Sgd",
                      call="torch.optim.SGD([p], lr=0.1, momentum=0.9, foreach=False) + StepLR(opt, step_size=2, gamma=0.5), sched.step() after each opt.step()",
                      options=dict(lr=0.1, momentum=0.9, stepLR=dict(step_size=2, gamma=0.5)), after=after))

    p = p0.clone().requires_grad_(True)
    opt = torch.optim.Adam([p], lr=0.01, foreach=False)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=STEPS, cycle_momentum=False)
    after = []
    for k in range(STEPS):
        p.grad = grads[k].clone()
        opt.step()
        sched.step()
        after.append(flat(p))
    cases.append(dict(name="adam_onecycle", kind="Adam",
                      call="torch.optim.Adam([p], lr=0.01, foreach=False) + OneCycleLR(opt, max_lr=0.05, total_steps=5, cycle_momentum=False)",
                      options=dict(lr=0.01, oneCycle=dict(max_lr=0.05, total_steps=STEPS)), after=after))
    return dict(parameters=flat(p0), gradients=[flat(x) for x in grads], cases=cases)


# ----------------------------------------------------------------------------------------------
# Schedulers: the lr each scheduler gives after 0..STEPS_S calls of scheduler.step()
# ----------------------------------------------------------------------------------------------
STEPS_S = 30


def scheduler_cases():
    from torch.optim import lr_scheduler as S
    configs = [
        ("steplr", "StepLR", 0.1, lambda o: S.StepLR(o, step_size=7, gamma=0.5), dict(stepSize=7, gamma=0.5),
         "StepLR(opt, step_size=7, gamma=0.5)", STEPS_S),
        ("steplr_default_gamma", "StepLR", 0.3, lambda o: S.StepLR(o, step_size=3), dict(stepSize=3, gamma=0.1),
         "StepLR(opt, step_size=3)", STEPS_S),
        ("cosine", "CosineAnnealingLR", 0.1, lambda o: S.CosineAnnealingLR(o, T_max=30), dict(tMax=30, etaMin=0.0),
         "CosineAnnealingLR(opt, T_max=30)", STEPS_S),
        ("cosine_wrap_etamin", "CosineAnnealingLR", 0.05, lambda o: S.CosineAnnealingLR(o, T_max=10, eta_min=0.001),
         dict(tMax=10, etaMin=0.001), "CosineAnnealingLR(opt, T_max=10, eta_min=0.001)", STEPS_S),
        ("onecycle", "OneCycleLR", 0.1, lambda o: S.OneCycleLR(o, max_lr=0.1, total_steps=30, cycle_momentum=False),
         dict(maxLr=0.1, totalSteps=30, pctStart=0.3, divFactor=25.0, finalDivFactor=1e4, anneal="cos", threePhase=False),
         "OneCycleLR(opt, max_lr=0.1, total_steps=30, cycle_momentum=False)", 30),
        ("onecycle_linear", "OneCycleLR", 0.1,
         lambda o: S.OneCycleLR(o, max_lr=0.02, total_steps=31, pct_start=0.25, div_factor=10.0, final_div_factor=100.0,
                                anneal_strategy="linear", cycle_momentum=False),
         dict(maxLr=0.02, totalSteps=31, pctStart=0.25, divFactor=10.0, finalDivFactor=100.0, anneal="linear", threePhase=False),
         "OneCycleLR(opt, max_lr=0.02, total_steps=31, pct_start=0.25, div_factor=10, final_div_factor=100, anneal_strategy='linear', cycle_momentum=False)", 31),
        ("onecycle_three_phase", "OneCycleLR", 0.1,
         lambda o: S.OneCycleLR(o, max_lr=0.5, total_steps=30, three_phase=True, cycle_momentum=False),
         dict(maxLr=0.5, totalSteps=30, pctStart=0.3, divFactor=25.0, finalDivFactor=1e4, anneal="cos", threePhase=True),
         "OneCycleLR(opt, max_lr=0.5, total_steps=30, three_phase=True, cycle_momentum=False)", 30),
    ]
    cases = []
    for name, kind, base_lr, make, args, call, steps in configs:
        p = torch.zeros(3, requires_grad=True)
        opt = torch.optim.SGD([p], lr=base_lr)
        sched = make(opt)
        lrs = [opt.param_groups[0]["lr"]]
        for _ in range(steps):
            opt.step()
            sched.step()
            lrs.append(opt.param_groups[0]["lr"])
        cases.append(dict(name=name, kind=kind, call=call, baseLr=base_lr, args=args, lrs=lrs))
    return cases


def gradclip_cases():
    g = torch.Generator().manual_seed(99)
    cases = []
    for name, n, scale, max_norm in [("clips", 37, 1.0, 1.0), ("no_clip", 37, 0.05, 5.0), ("clips_long", 203, 3.0, 0.5)]:
        gr = torch.randn(n, generator=g) * scale
        p = torch.zeros(n, requires_grad=True)
        p.grad = gr.clone()
        total = torch.nn.utils.clip_grad_norm_([p], max_norm)
        cases.append(dict(name=name, call=f"torch.nn.utils.clip_grad_norm_([p], {max_norm})", maxNorm=max_norm,
                          grads=flat(gr), totalNorm=float(total), clipped=flat(p.grad)))
    return cases


if __name__ == "__main__":
    torch.manual_seed(0)
    print("torch", torch.__version__)
    dump(os.path.join(FIX, "losses", "losses.json"), dict(torch=torch.__version__, cases=loss_cases()))
    dump(os.path.join(FIX, "optim", "optimizers.json"), dict(torch=torch.__version__, **optimizer_cases()))
    dump(os.path.join(FIX, "optim", "schedulers.json"), dict(torch=torch.__version__, cases=scheduler_cases()))
    dump(os.path.join(FIX, "optim", "gradclip.json"), dict(torch=torch.__version__, cases=gradclip_cases()))
