#!/usr/bin/python3
"""Image fixtures for mnist-predict's PGM/PNG readers (samples/MnistPredict/Images.cs), written with Pillow 9.4
(Debian's python3-pil), independently of the C# decoder:
    /usr/bin/python3 tools/golden/make_image_fixtures.py  ->  tests/Runtime.Tests/Fixtures/images/
expected.gray: the 28x28 8-bit image every file must decode to (row-major bytes), except:
  palette16.png -> expected16.gray (the image quantized to 16 gray levels, what the palette holds);
  rgba.png      -> expected-rgba.gray (gray composited over black: v * alpha // 255).
Pillow's PNG encoder picks a filter per row (adaptive), so Sub, Up, Average and Paeth rows all occur (checked below).
"""
import os
import random
import zlib

from PIL import Image

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "Runtime.Tests", "Fixtures", "images")
os.makedirs(out, exist_ok=True)
rnd = random.Random(5)
W = H = 28
# A digit-like blob, a gradient and noise: smooth areas (Up/Average/Paeth pay) and edges (Sub pays).
g = []
for y in range(H):
    for x in range(W):
        r2 = (x - 14) ** 2 + (y - 13) ** 2
        v = 255 if 30 < r2 < 80 else (x * 9 + y * 3) % 256 if y > 22 else rnd.randrange(0, 40)
        g.append(v)
gray = bytes(g)
open(os.path.join(out, "expected.gray"), "wb").write(gray)

Image.frombytes("L", (W, H), gray).save(os.path.join(out, "gray8.png"))
Image.frombytes("RGB", (W, H), bytes(v for p in g for v in (p, p, p))).save(os.path.join(out, "rgb.png"))
Image.frombytes("I;16", (W, H), b"".join((p * 257).to_bytes(2, "little") for p in g)).save(os.path.join(out, "gray16.png"))
alpha = [255 if (i // 7) % 3 else (i * 37) % 256 for i in range(W * H)]
Image.frombytes("RGBA", (W, H), bytes(v for p, a in zip(g, alpha) for v in (p, p, p, a))).save(os.path.join(out, "rgba.png"))
open(os.path.join(out, "expected-rgba.gray"), "wb").write(bytes(p * a // 255 for p, a in zip(g, alpha)))
q = [(p // 16) * 17 for p in g]
pal = Image.frombytes("L", (W, H), bytes(q)).convert("P", palette=Image.ADAPTIVE, colors=16)
pal.save(os.path.join(out, "palette16.png"))
open(os.path.join(out, "expected16.gray"), "wb").write(bytes(q))
# The palette image must really hold the 16 levels exactly (so expected16.gray is what it shows).
assert list(Image.open(os.path.join(out, "palette16.png")).convert("L").getdata()) == q

# PGM: binary P5 and ASCII P2 (with a comment), and a 16-bit P5.
open(os.path.join(out, "digit.pgm"), "wb").write(b"P5\n28 28\n255\n" + gray)
rows = "\n".join(" ".join(str(v) for v in g[y * W:(y + 1) * W]) for y in range(H))
open(os.path.join(out, "digit-ascii.pgm"), "w").write("P2\n# written by make_image_fixtures.py\n28 28\n255\n" + rows + "\n")
open(os.path.join(out, "digit16.pgm"), "wb").write(b"P5 28 28 65535\n" + b"".join((p * 257).to_bytes(2, "big") for p in g))

# Which PNG row filters occur (the decoder must handle every one of them).
def filters(path):
    data = open(path, "rb").read()
    pos, idat, ihdr = 8, b"", None
    while pos < len(data):
        n = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        if kind == b"IHDR":
            ihdr = data[pos + 8:pos + 8 + n]
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    w, depth, colour = int.from_bytes(ihdr[:4], "big"), ihdr[8], ihdr[9]
    stride = w * {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour] * depth // 8
    raw = zlib.decompress(idat)
    return sorted({raw[i * (stride + 1)] for i in range(len(raw) // (stride + 1))})

# Pillow never writes Average (3) rows here: one more gray image whose rows cycle through filters 0..4, encoded by
# hand below and checked by decoding it with Pillow.
def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c

raw, prev = b"", [0] * W
for y in range(H):
    row, ft = g[y * W:(y + 1) * W], y % 5
    out_row = []
    for x in range(W):
        a, b, c = (row[x - 1] if x else 0), prev[x], (prev[x - 1] if x else 0)
        pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][ft]
        out_row.append((row[x] - pred) % 256)
    raw += bytes([ft] + out_row)
    prev = row

def chunk(kind, data):
    return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", W.to_bytes(4, "big") + H.to_bytes(4, "big") + bytes([8, 0, 0, 0, 0]))
       + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
open(os.path.join(out, "filters-all.png"), "wb").write(png)
assert Image.open(os.path.join(out, "filters-all.png")).tobytes() == gray

seen = set()
for name in ["gray8.png", "rgb.png", "gray16.png", "rgba.png", "palette16.png", "filters-all.png"]:
    f = filters(os.path.join(out, name))
    seen.update(f)
    print(name, "filters", f)
assert seen == {0, 1, 2, 3, 4}, seen
