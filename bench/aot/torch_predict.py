#!/usr/bin/python3
"""PyTorch peer of mnist-predict: model A (../shared/bench/peers/models.py) with the same mnist.safetensors,
one PGM image in, the tutorial's three lines out. Used by bench/aot.sh for "process start -> first prediction".
   /usr/bin/python3 bench/aot/torch_predict.py PEERS_DIR WEIGHTS.safetensors DIGIT.pgm
"""
import json
import struct
import sys

import torch

peers, weights, image = sys.argv[1:4]
sys.path.insert(0, peers)
import models  # noqa: E402

torch.set_num_threads(1)
model = models.model_a().eval()
with open(weights, "rb") as f:
    raw = f.read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
state = {}
for key, t in header.items():
    if key == "__metadata__":
        continue
    begin, end = t["data_offsets"]
    state[key] = torch.frombuffer(bytearray(raw[8 + n + begin:8 + n + end]), dtype=torch.float32).reshape(t["shape"])
model.load_state_dict(state)

with open(image, "rb") as f:
    pgm = f.read()
parts = pgm.split(maxsplit=4)  # P5 w h max data
w, h = int(parts[1]), int(parts[2])
pixels = torch.tensor(list(parts[4][:w * h]), dtype=torch.float32).reshape(1, 1, h, w)
x = (pixels / 255.0 - 0.1307) / 0.3081
with torch.no_grad():
    logits = model(x)[0]
probs = torch.softmax(logits, 0)
print("Logits: " + ", ".join(f"{v:.3f}" for v in logits.tolist()))
print(" Probs:  " + ", ".join(f"{v:.3f}" for v in probs.tolist()))
print(f"  Pred:  {int(logits.argmax())}")
