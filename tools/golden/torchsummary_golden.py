#!/usr/bin/python3
"""Print torchsummary's table for the models the generator tests check (tests/Generator.Tests/Issue6Tests.cs).

torchsummary is not packaged for Debian, so summary() below restates torchsummary 1.5.1's algorithm
(torchsummary/torchsummary.py): a forward hook on every module that is not an nn.Sequential, an nn.ModuleList or
the model itself, numbered in the order the hooks fire (a container module's row comes after its children's, and a
module called twice gets two rows); "Param #" is weight.numel() + bias.numel() (buffers such as batch norm's running
statistics are not counted); the four sizes as abs(x * 4 / 1024**2) with 2x for the activations; format strings
"{:>20}  {:>25} {:>15}" and "{0:,}". Run: /usr/bin/python3 tools/golden/torchsummary_golden.py
"""

from collections import OrderedDict

import numpy as np
import torch
import torch.nn as nn


def summary(model, input_size, batch_size=-1):
    rows = OrderedDict()
    hooks = []

    def register_hook(module):
        def hook(module, inputs, output):
            class_name = str(module.__class__).split(".")[-1].split("'")[0]
            key = "%s-%i" % (class_name, len(rows) + 1)
            shape = list(output.size())
            shape[0] = batch_size
            params = 0
            row = OrderedDict(output_shape=shape)
            if hasattr(module, "weight") and hasattr(module.weight, "size"):
                params += int(torch.prod(torch.LongTensor(list(module.weight.size()))))
                row["trainable"] = module.weight.requires_grad
            if hasattr(module, "bias") and hasattr(module.bias, "size"):
                params += int(torch.prod(torch.LongTensor(list(module.bias.size()))))
            row["nb_params"] = params
            rows[key] = row

        # nn.Flatten is skipped: CnnGen's table is that of a model that flattens with view() (DESIGN.md).
        if isinstance(module, nn.Flatten):
            return
        if not isinstance(module, nn.Sequential) and not isinstance(module, nn.ModuleList) and not (module == model):
            hooks.append(module.register_forward_hook(hook))

    model.apply(register_hook)
    model.eval()
    with torch.no_grad():
        model(torch.rand(2, *input_size))
    for h in hooks:
        h.remove()

    out = []
    out.append("----------------------------------------------------------------")
    out.append("{:>20}  {:>25} {:>15}".format("Layer (type)", "Output Shape", "Param #"))
    out.append("================================================================")
    total_params = total_output = trainable = 0
    for key, row in rows.items():
        out.append("{:>20}  {:>25} {:>15}".format(key, str(row["output_shape"]), "{0:,}".format(row["nb_params"])))
        total_params += row["nb_params"]
        total_output += np.prod(row["output_shape"])
        if row.get("trainable") is True:
            trainable += row["nb_params"]
    total_input_size = abs(np.prod(input_size) * batch_size * 4. / (1024 ** 2.))
    total_output_size = abs(2. * total_output * 4. / (1024 ** 2.))
    total_params_size = abs(total_params * 4. / (1024 ** 2.))
    total_size = total_params_size + total_output_size + total_input_size
    out.append("================================================================")
    out.append("Total params: {0:,}".format(total_params))
    out.append("Trainable params: {0:,}".format(trainable))
    out.append("Non-trainable params: {0:,}".format(total_params - trainable))
    out.append("----------------------------------------------------------------")
    out.append("Input size (MB): %0.2f" % total_input_size)
    out.append("Forward/backward pass size (MB): %0.2f" % total_output_size)
    out.append("Params size (MB): %0.2f" % total_params_size)
    out.append("Estimated Total Size (MB): %0.2f" % total_size)
    out.append("----------------------------------------------------------------")
    return "\n".join(out) + "\n"


def leaf_layers_model():
    """Issue6Tests.LeafLayersSummary: [Input(3, 32, 32)] and the layers below (GlobalAvgPool2d is AdaptiveAvgPool2d(1))."""
    return nn.Sequential(
        nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU6(),
        nn.Conv2d(16, 16, 3, padding=1, groups=16), nn.SiLU(), nn.Identity(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10)), (3, 32, 32)


def resnet18():
    """torchvision.models.resnet18() restated (Debian has no torchvision): same modules, names and order."""
    import importlib.util
    import os
    spec = importlib.util.spec_from_file_location("make_parity", os.path.join(os.path.dirname(__file__), "make_parity.py"))
    mp = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mp)

    class ResNet18(nn.Module):
        def __init__(self, num_classes=1000):
            super().__init__()
            self.inplanes = 64
            self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
            self.layer1 = self._make_layer(64, 1)
            self.layer2 = self._make_layer(128, 2)
            self.layer3 = self._make_layer(256, 2)
            self.layer4 = self._make_layer(512, 2)
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512, num_classes)

        def _make_layer(self, planes, stride):
            downsample = None
            if stride != 1 or self.inplanes != planes:
                downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes, 1, stride=stride, bias=False), nn.BatchNorm2d(planes))
            layers = [mp.BasicBlock(self.inplanes, planes, stride, downsample), mp.BasicBlock(planes, planes)]
            self.inplanes = planes
            return nn.Sequential(*layers)

        def forward(self, x):
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(torch.flatten(self.avgpool(x), 1))

    return ResNet18(), (3, 224, 224)


def torchvision_resnet18():
    """torchvision.models.resnet18() itself (Debian: apt-get install python3-torchvision), to check the restatement."""
    import torchvision
    return torchvision.models.resnet18(), (3, 224, 224)


def main():
    """Arguments: nothing (the leaf-layers model), "resnet18" (the restatement), "torchvision-resnet18" (the real one,
    whose table must equal the restatement's: Golden/resnet18.torchsummary.txt) or "torchvision-resnet18-keys"."""
    import sys
    if sys.argv[1:] == ["resnet18"]:
        model, size = resnet18()
    elif sys.argv[1:] == ["torchvision-resnet18"]:
        model, size = torchvision_resnet18()
        state = model.state_dict()
        print(f"# torchvision resnet18: {sum(p.numel() for p in model.parameters()):,} parameters, {len(state)} state_dict entries", file=sys.stderr)
    elif sys.argv[1:] == ["torchvision-resnet18-keys"]:
        # tests/Generator.Tests/Golden/resnet18.state_dict.txt: every state_dict entry of torchvision's ResNet-18, "key [shape]".
        model, _ = torchvision_resnet18()
        for k, v in model.state_dict().items():
            print(f"{k} [{', '.join(str(d) for d in v.shape)}]")
        return
    else:
        model, size = leaf_layers_model()
    print(summary(model, size), end="")


if __name__ == "__main__":
    main()
