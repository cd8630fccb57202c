"""An example brainbench model plugin: a small convolutional network.

Register and score it:
    brainbench models register tinycnn --from examples/my_plugin.py:build_tinycnn
    brainbench score tinycnn --random-init -b Kiani2007.IT-rsa

It has no trained weights, so it is scored as what it is, an untrained network: --random-init records it as
"random-init (torch seed N)", and --seed N gives another draw of its weights.

A plugin function takes no arguments and returns a torch.nn.Module, or a dict with the module and,
optionally, its preprocessing, candidate layers and visual degrees. Load your trained weights inside
the function (or pass --weights PATH when registering).
"""

from torch import nn


def build_tinycnn() -> dict:
    # No torch.manual_seed here: brainbench seeds torch with --seed before calling the function, and the record
    # says which seed built the weights.
    module = nn.Sequential(
        nn.Conv2d(3, 16, 5, stride=2, padding=2), nn.ReLU(),
        nn.Conv2d(16, 32, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10),
    )
    return {
        "module": module,
        "preprocessing": {"input_size": 96, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
        "layers": ["1", "3", "5", "6"],
        "visual_degrees": 8,
    }
