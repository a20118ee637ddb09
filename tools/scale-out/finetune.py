"""Fine-tune a CnnGen-trained MNIST model in PyTorch with torch.distributed (DistributedDataParallel), and hand the
weights back as safetensors under the same keys. docs/scale-out.md walks through it; on one machine:

    ./build.sh mnist                                   # CnnGen trains, writes mnist.safetensors (+ mnist.onnx)
    torchrun --nproc_per_node=2 tools/scale-out/finetune.py mnist.safetensors mnist.tuned.safetensors \
        --data ../shared/data/mnist --epochs 1
    ./build.sh mnist --evaluate mnist.tuned.safetensors  # back in CnnGen: accuracy, and mnist.tuned.onnx

Multi-node: torchrun --nnodes=2 --node_rank=R --master_addr=HOST --master_port=29500 --nproc_per_node=G ...
Backend: gloo (CPU; default) or nccl (GPUs, --backend nccl). The model below is samples/Mnist's MnistCnn layer for
layer, so load_state_dict(strict=True) checks every key and shape. Inputs are normalized as the CnnGen sample's
default recipe normalizes them ((x/255 - 0.1307) / 0.3081; --fashion for Fashion-MNIST's 0.2860, 0.3530)."""
import argparse
import gzip
import os
import struct
import sys

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn

try:
    from safetensors.torch import load_file, save_file
except ImportError:  # Debian 12 has no python3-safetensors; the same format, read and written in a few lines
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from safetensors_min import load_file, save_file


def mnist_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3), nn.ReLU(), nn.MaxPool2d(2, stride=2, padding=1),
        nn.Conv2d(16, 32, 3), nn.ReLU(), nn.MaxPool2d(2, stride=2, padding=1),
        nn.Flatten(), nn.Linear(7 * 7 * 32, 32), nn.ReLU(), nn.Dropout(0.3), nn.Linear(32, 10))


def idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    magic, n = struct.unpack(">II", data[:8])
    if magic == 2051:
        rows, cols = struct.unpack(">II", data[8:16])
        return np.frombuffer(data, np.uint8, n * rows * cols, 16).reshape(n, 1, rows, cols)
    if magic == 2049:
        return np.frombuffer(data, np.uint8, n, 8)
    raise ValueError(f"{path}: not an IDX image or label file (magic {magic:#x})")


def find(directory, stem):
    for name in (stem + ".gz", stem):
        p = os.path.join(directory, name)
        if os.path.exists(p):
            return p
    raise FileNotFoundError(f"{directory}: no {stem}(.gz)")


def load(directory, split, mean, std):
    x = idx(find(directory, f"{split}-images-idx3-ubyte"))
    y = idx(find(directory, f"{split}-labels-idx1-ubyte"))
    x = (torch.from_numpy(x.astype(np.float32)) / 255 - mean) / std
    return torch.utils.data.TensorDataset(x, torch.from_numpy(y.astype(np.int64)))


def accuracy(model, data):
    model.eval()
    with torch.no_grad():
        x, y = data.tensors
        return (model(x).argmax(1) == y).float().mean().item()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("weights", help="safetensors written by CnnGen (SaveWeights, ./build.sh mnist)")
    ap.add_argument("out", help="where rank 0 writes the fine-tuned safetensors")
    ap.add_argument("--data", required=True, help="directory with the MNIST IDX files")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--batch-size", type=int, default=64, help="per process")
    ap.add_argument("--backend", default="gloo")
    ap.add_argument("--fashion", action="store_true", help="Fashion-MNIST normalization")
    a = ap.parse_args()

    dist.init_process_group(a.backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    torch.manual_seed(rank)
    torch.set_num_threads(1)
    mean, std = (0.2860, 0.3530) if a.fashion else (0.1307, 0.3081)
    train, test = load(a.data, "train", mean, std), load(a.data, "t10k", mean, std)

    model = mnist_cnn()
    model.load_state_dict(load_file(a.weights), strict=True)  # every key and shape must match
    if rank == 0:
        print(f"rank 0 of {world}: {a.weights} loaded, test accuracy {accuracy(model, test) * 100:.2f}%", flush=True)
    ddp = nn.parallel.DistributedDataParallel(model)
    sampler = torch.utils.data.distributed.DistributedSampler(train, num_replicas=world, rank=rank, shuffle=True)
    loader = torch.utils.data.DataLoader(train, batch_size=a.batch_size, sampler=sampler)
    opt = torch.optim.Adam(ddp.parameters(), lr=a.lr)
    for epoch in range(a.epochs):
        sampler.set_epoch(epoch)
        ddp.train()
        total, batches = 0.0, 0
        for x, y in loader:
            opt.zero_grad()
            loss = nn.functional.cross_entropy(ddp(x), y)
            loss.backward()  # gradients are averaged over the processes here
            opt.step()
            total, batches = total + loss.item(), batches + 1
        if rank == 0:
            print(f"epoch {epoch + 1}: mean training loss {total / batches:.4f} over {batches} batches per process, "
                  f"test accuracy {accuracy(model, test) * 100:.2f}%", flush=True)
    if rank == 0:
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, a.out)
        print(f"wrote {a.out}", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
