#!/usr/bin/python3
"""Trains seam's bundled cascade pair on Fashion-MNIST and exports both to ONNX.

  small  models/fashion/fashion_small.onnx: two 3x3 convolutions (8 and 16 channels) and one linear layer,
         ~9k parameters: meant for the device or the edge box.
  big    models/fashion/repo/fashion_big/1/model.onnx (a model repository `seam serve` serves): four 3x3 convolutions (16-64 channels, batch norm) and two
         linear layers, ~360k parameters (~1.5 MB): the cloud's model.

Both take `image`, float32 [N, 1, 28, 28], pixels scaled to [0, 1] (byte / 255), and answer
`logits`, float32 [N, 10] (classes in the dataset's order: docs/cascade.md). Trained on the 60,000
training images (Debian's dataset-fashion-mnist), with a fixed seed; the test set's 10,000 images
are never seen in training: `seam cascade calibrate` splits them into validation and held-out
test halves. Writes models/fashion/pair.json with both test accuracies.

Needs Debian's python3-torch and python3-onnx (run with /usr/bin/python3):
  sudo apt-get install python3-torch python3-onnx dataset-fashion-mnist
  /usr/bin/python3 scripts/train_fashion_pair.py [--epochs-small 4] [--epochs-big 6]
Takes ~10 minutes on two cores.
"""
import argparse
import gzip
import json
import os
import struct
import time

import numpy as np
import torch
from torch import nn

DATA = "/usr/share/datasets/fashion-mnist"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(split):
    images = read_idx(f"{DATA}/{split}-images-idx3-ubyte.gz").astype(np.float32) / 255.0
    labels = read_idx(f"{DATA}/{split}-labels-idx1-ubyte.gz").astype(np.int64)
    return torch.from_numpy(images).unsqueeze(1), torch.from_numpy(labels)


def small_model():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16 * 7 * 7, 10))


def big_model():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
        nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
        nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 7 * 7, 96), nn.ReLU(), nn.Dropout(0.3),
        nn.Linear(96, 10))


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        correct = sum((model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item()
                      for i in range(0, len(x), 1000))
    return correct / len(x)


def train(name, model, epochs, x, y, x_test, y_test, lr):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * (len(x) // 128))
    loss_fn = nn.CrossEntropyLoss()
    for epoch in range(epochs):
        model.train()
        start = time.time()
        order = torch.randperm(len(x))
        for i in range(0, len(x) - 127, 128):
            idx = order[i:i + 128]
            batch = x[idx]
            # Random horizontal flips: garments are left-right symmetric enough.
            flip = torch.rand(len(idx)) < 0.5
            batch[flip] = batch[flip].flip(3)
            opt.zero_grad()
            loss = loss_fn(model(batch), y[idx])
            loss.backward()
            opt.step()
            sched.step()
        print(f"[train] {name} epoch {epoch + 1}/{epochs}: loss {loss.item():.3f}, "
              f"test accuracy {accuracy(model, x_test, y_test):.4f} ({time.time() - start:.0f} s)",
              flush=True)
    return accuracy(model, x_test, y_test)


def export(model, path):
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path, input_names=["image"],
                      output_names=["logits"], opset_version=13,
                      dynamic_axes={"image": {0: "N"}, "logits": {0: "N"}})
    return os.path.getsize(path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs-small", type=int, default=4)
    parser.add_argument("--epochs-big", type=int, default=6)
    parser.add_argument("--out", default=os.path.join(ROOT, "models", "fashion"))
    args = parser.parse_args()
    torch.manual_seed(7)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    x, y = load("train")
    x_test, y_test = load("t10k")
    result = {}
    for name, make, epochs, lr in (("small", small_model, args.epochs_small, 3e-3),
                                   ("big", big_model, args.epochs_big, 2e-3)):
        model = make()
        params = sum(p.numel() for p in model.parameters())
        acc = train(name, model, epochs, x, y, x_test, y_test, lr)
        file = "fashion_small.onnx" if name == "small" else "repo/fashion_big/1/model.onnx"
        os.makedirs(os.path.dirname(os.path.join(args.out, file)), exist_ok=True)
        size = export(model, os.path.join(args.out, file))
        result[name] = {"file": file, "parameters": params,
                        "bytes": size, "epochs": epochs, "test_accuracy": round(acc, 4)}
        print(f"[train] {name}: {params} parameters, {size} bytes, test accuracy {acc:.4f}")
    with open(os.path.join(args.out, "pair.json"), "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
