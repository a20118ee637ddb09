#!/usr/bin/python3
"""PyTorch side of the CifarResNet throughput comparison (samples/ResNet `bench` mode is the CnnGen side):
the same network (torchvision BasicBlock / SqueezeExcitation restated in tools/golden/make_parity.py), batch 32,
one thread, float32; training = forward + cross-entropy + backward + Adam step; inference = eval() under no_grad.
    /usr/bin/python3 bench/resnet_cifar_torch.py"""
import importlib.util
import os
import time

import torch
import torch.nn as nn

spec = importlib.util.spec_from_file_location("mp", os.path.join(os.path.dirname(__file__), "..", "tools", "golden", "make_parity.py"))
mp = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mp)


class CifarResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = nn.Sequential(mp.BasicBlock(16, 16))
        self.layer2 = nn.Sequential(mp.BasicBlock(16, 32, 2, nn.Sequential(nn.Conv2d(16, 32, 1, stride=2, bias=False), nn.BatchNorm2d(32))))
        self.se = mp.SqueezeExcitation(32, 8)  # channels 32, squeeze 32 / 4 = 8
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.se(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def main():
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = CifarResNet()
    print("parameters:", sum(p.numel() for p in model.parameters()))
    x = torch.rand(32, 3, 32, 32) * 2 - 1
    labels = torch.zeros(32, dtype=torch.long)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        loss_fn(model(x), labels).backward()
        opt.step()

    model.train()
    for _ in range(10):
        step()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < 5:
        step()
        n += 1
    print("PyTorch %s CifarResNet training (forward+backward+Adam), batch 32, 1 thread: %.0f img/s" % (torch.__version__, n * 32 / (time.perf_counter() - t0)))
    model.eval()
    with torch.no_grad():
        for _ in range(10):
            model(x)
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < 5:
            model(x)
            n += 1
    print("PyTorch %s CifarResNet inference, batch 32, 1 thread: %.0f img/s" % (torch.__version__, n * 32 / (time.perf_counter() - t0)))


if __name__ == "__main__":
    main()
