#!/usr/bin/env python3
"""Writes the small public datasets that ship with the models module (datasets/wine.csv and
datasets/breast_cancer.csv) from the copies bundled with scikit-learn (no download), label last,
classes as 0..k-1 (their names are in src/modules/models/builtin-datasets.ts).

Run with Debian's sklearn: /usr/bin/python3 scripts/models-datasets.py
"""
import csv
import os

from sklearn.datasets import load_breast_cancer, load_wine

OUT = os.path.join(os.path.dirname(__file__), "..", "datasets")


def write(name, bunch, label):
    path = os.path.join(OUT, name + ".csv")
    names = [n.replace(" ", "_").replace("/", "_") for n in bunch.feature_names]
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(names + [label])
        for row, y in zip(bunch.data, bunch.target):
            w.writerow([repr(float(v)) for v in row] + [int(y)])
    print(path, bunch.data.shape, list(bunch.target_names))


write("wine", load_wine(), "cultivar")
write("breast_cancer", load_breast_cancer(), "diagnosis")
