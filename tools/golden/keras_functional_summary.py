#!/usr/bin/python3
"""KerasSummary() goldens for models with residual and squeeze-excitation blocks (tests/Generator.Tests/KerasFunctionalSummaryTests.cs).

Keras is not installable here, so this restates what tf.keras 2.9-2.12 does for model.summary() of a functional model
(keras.Model(inputs, outputs)), from its source:
- keras/engine/functional.py, _map_graph_network / _build_map: a depth-first walk from the output tensors, each node's
  inputs in call order; a layer's traversal index is given when the walk first reaches it (pre-order), nodes are
  collected in post-order; node depths are assigned in the reverse of that order (output depth 0, an inbound node gets
  max(depth + 1, its depth so far)); model.layers is sorted by decreasing depth, ties by traversal index.
- keras/utils/layer_utils.py, print_summary: a model with a node of several inbound tensors is not sequential-like, so
  line_length 98, positions [0.33, 0.55, 0.67, 1.0] -> [32, 53, 65, 98], columns Layer (type) / Output Shape / Param # /
  Connected to; print_row cuts each field to its column (less 2 spaces of separation, none after the last), preferring a
  break after "),", "},", "]," or "',", and prints what is left on the following lines; each layer's rows are followed by
  a line of line_length spaces (as CnnGen's sequential table, tests/Generator.Tests/ShapeTests.cs); "Connected to" is
  str() of the list of f"{inbound_layer.name}[{node_index}][{tensor_index}]"; the InputLayer's output_shape is a list
  [(None, H, W, C)]; the model is named "model"; BatchNormalization's moving mean and variance are non-trainable params.
Layer names follow Keras' unique naming: the class in snake case, then _1, _2, ... in creation order; the Input is input_1.
The Keras models are those of CnnGen's blocks: residual = add([body, shortcut]) (then ReLU), squeeze-excitation =
multiply([x, gate]) with GlobalAveragePooling2D(keepdims=True), Conv2D 1x1, ReLU, Conv2D 1x1, Activation("sigmoid").
Run: /usr/bin/python3 tools/golden/keras_functional_summary.py   (writes tests/Generator.Tests/Golden/keras_*.summary.txt)
"""

import os
import re

COUNTS = {}


def snake(name):
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()


class Layer:
    def __init__(self, cls, shape, params=0, inputs=(), non_trainable=0, name=None):
        base = name or snake(cls)
        n = COUNTS.get(base, 0)
        COUNTS[base] = n + 1
        self.name = base if n == 0 else "%s_%d" % (base, n)
        self.cls, self.shape, self.params, self.inputs, self.non_trainable = cls, shape, params, list(inputs), non_trainable


def Input(shape):
    return Layer("InputLayer", "[%s]" % str(shape), name="input_1")


def map_graph(output):
    layer_indices, post_order, finished, in_progress = {}, [], set(), set()

    def build(layer):
        if layer in finished:
            return
        assert layer not in in_progress
        if layer not in layer_indices:
            layer_indices[layer] = len(layer_indices)
        in_progress.add(layer)
        for x in layer.inputs:
            build(x)
        finished.add(layer)
        in_progress.remove(layer)
        post_order.append(layer)

    build(output)
    depths = {}
    for layer in reversed(post_order):
        depth = depths.setdefault(layer, 0)
        for x in layer.inputs:
            depths[x] = max(depth + 1, depths.get(x, 0))
    by_depth = {}
    for layer, d in depths.items():
        by_depth.setdefault(d, []).append(layer)
    layers = []
    for d in sorted(by_depth, reverse=True):
        layers += sorted(by_depth[d], key=lambda l: layer_indices[l])
    return layers


def print_row(out, fields, positions):
    left = [str(x) for x in fields]
    while any(left):
        line = ""
        for col in range(len(left)):
            start = positions[col - 1] if col > 0 else 0
            space = 2 if col != len(positions) - 1 else 0
            cutoff = positions[col] - start - space
            fit = left[col][:cutoff]
            candidates = [fit.find(x) + len(x) for x in ("),", "},", "],", "',") if fit.find(x) >= 0]
            if candidates:
                cutoff = min(candidates)
                fit = fit[:cutoff]
            if col == 0:
                line += " "
            line += fit + " " * space
            left[col] = left[col][cutoff:]
            line += " " * (positions[col] - len(line))
        out.append(line)


def summary(output):
    line_length, positions = 98, [int(98 * p) for p in [0.33, 0.55, 0.67, 1.0]]
    out = ['Model: "model"', "_" * line_length]
    print_row(out, ["Layer (type)", "Output Shape", "Param #", "Connected to"], positions)
    out.append("=" * line_length)
    total = non_trainable = 0
    for layer in map_graph(output):
        connections = ["%s[0][0]" % x.name for x in layer.inputs]
        print_row(out, [layer.name + " (" + layer.cls + ")", layer.shape, layer.params, connections], positions)
        out.append(" " * line_length)
        total += layer.params
        non_trainable += layer.non_trainable
    out.append("=" * line_length)
    out.append("Total params: {:,}".format(total))
    out.append("Trainable params: {:,}".format(total - non_trainable))
    out.append("Non-trainable params: {:,}".format(non_trainable))
    out.append("_" * line_length)
    return "\n".join(out) + "\n"


def residual():
    """KerasFunctionalSummaryTests.Residual: a stem conv, a residual with a projection shortcut and ReLU, a classifier."""
    COUNTS.clear()
    x = Input((None, 8, 8, 3))
    stem = Layer("Conv2D", (None, 8, 8, 4), 3 * 4 * 9 + 4, [x])
    a = Layer("Conv2D", (None, 4, 4, 8), 4 * 8 * 9 + 8, [stem])
    bn = Layer("BatchNormalization", (None, 4, 4, 8), 4 * 8, [a], non_trainable=2 * 8)
    r = Layer("ReLU", (None, 4, 4, 8), 0, [bn])
    b = Layer("Conv2D", (None, 4, 4, 8), 8 * 8 * 9 + 8, [r])
    bn_b = Layer("BatchNormalization", (None, 4, 4, 8), 4 * 8, [b], non_trainable=2 * 8)
    s = Layer("Conv2D", (None, 4, 4, 8), 4 * 8 + 8, [stem])
    bn_s = Layer("BatchNormalization", (None, 4, 4, 8), 4 * 8, [s], non_trainable=2 * 8)
    add = Layer("Add", (None, 4, 4, 8), 0, [bn_b, bn_s])
    out = Layer("ReLU", (None, 4, 4, 8), 0, [add])
    flat = Layer("Flatten", (None, 128), 0, [out])
    dense = Layer("Dense", (None, 2), 128 * 2 + 2, [flat])
    return summary(dense)


def squeeze_excitation():
    """KerasFunctionalSummaryTests.SqueezeExcitation: conv, SqueezeExcitation(16, 4), an identity residual around conv + SE, pooling, dense."""
    COUNTS.clear()
    x = Input((None, 6, 6, 3))
    conv = Layer("Conv2D", (None, 6, 6, 16), 3 * 16 * 9 + 16, [x])
    gap = Layer("GlobalAveragePooling2D", (None, 1, 1, 16), 0, [conv])
    fc1 = Layer("Conv2D", (None, 1, 1, 4), 16 * 4 + 4, [gap])
    relu = Layer("ReLU", (None, 1, 1, 4), 0, [fc1])
    fc2 = Layer("Conv2D", (None, 1, 1, 16), 4 * 16 + 16, [relu])
    gate = Layer("Activation", (None, 1, 1, 16), 0, [fc2])
    scaled = Layer("Multiply", (None, 6, 6, 16), 0, [conv, gate])
    body = Layer("Conv2D", (None, 6, 6, 16), 16 * 16 * 9 + 16, [scaled])
    gap2 = Layer("GlobalAveragePooling2D", (None, 1, 1, 16), 0, [body])
    fc1b = Layer("Conv2D", (None, 1, 1, 4), 16 * 4 + 4, [gap2])
    relub = Layer("ReLU", (None, 1, 1, 4), 0, [fc1b])
    fc2b = Layer("Conv2D", (None, 1, 1, 16), 4 * 16 + 16, [relub])
    gateb = Layer("Activation", (None, 1, 1, 16), 0, [fc2b])
    scaledb = Layer("Multiply", (None, 6, 6, 16), 0, [body, gateb])
    add = Layer("Add", (None, 6, 6, 16), 0, [scaledb, scaled])
    pool = Layer("GlobalAveragePooling2D", (None, 1, 1, 16), 0, [add])
    flat = Layer("Flatten", (None, 16), 0, [pool])
    dense = Layer("Dense", (None, 3), 16 * 3 + 3, [flat])
    return summary(dense)


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "Generator.Tests", "Golden")
    with open(os.path.join(out, "keras_residual.summary.txt"), "w") as f:
        f.write(residual())
    with open(os.path.join(out, "keras_se.summary.txt"), "w") as f:
        f.write(squeeze_excitation())


if __name__ == "__main__":
    main()
