#!/usr/bin/python3
"""scikit-learn side of bench/ml.ts: times fits on the CSVs bench/ml.ts wrote and prints JSON.

Usage: /usr/bin/python3 bench/ml_sklearn.py DIR [TASK ...]
  TASK is tree, forest or cluster (default: tree forest). tree and forest read DIR/trees.csv
  (features then a label column; the first 80% of rows train, the rest test). cluster runs
  bench/ml_sklearn_cluster.py's run(DIR) when that file exists.
Prints a JSON list of {task, sk1Sec, sk2Sec, accSk} (cluster rows as that script returns them).
"""
import importlib.util
import json
import os
import sys
import time

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier

TREE_TASK = "decision tree (depth 10)"
FOREST_TASK = "random forest (100 trees, depth 10)"


def load(dir):
    data = np.loadtxt(os.path.join(dir, "trees.csv"), delimiter=",", skiprows=1)
    x, y = data[:, :-1], data[:, -1].astype(np.int64)
    n_train = int(len(y) * 0.8)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


def timed_fit(make, x, y, reps):
    """Best of `reps` fits (seconds) and the last fitted model."""
    best, model = float("inf"), None
    for _ in range(reps):
        model = make()
        t = time.perf_counter()
        model.fit(x, y)
        best = min(best, time.perf_counter() - t)
    return best, model


def tree_rows(dir, tasks):
    xtr, ytr, xte, yte = load(dir)
    rows = []
    if "tree" in tasks:
        sec, m = timed_fit(lambda: DecisionTreeClassifier(max_depth=10, random_state=0), xtr, ytr, 3)
        rows.append({"task": TREE_TASK, "sk1Sec": sec, "sk2Sec": None, "accSk": float((m.predict(xte) == yte).mean())})
    if "forest" in tasks:
        make = lambda jobs: (lambda: RandomForestClassifier(
            n_estimators=100, max_depth=10, max_features="sqrt", n_jobs=jobs, random_state=0))
        sk1, m1 = timed_fit(make(1), xtr, ytr, 1)
        sk2, _ = timed_fit(make(2), xtr, ytr, 2)
        rows.append({"task": FOREST_TASK, "sk1Sec": sk1, "sk2Sec": sk2, "accSk": float((m1.predict(xte) == yte).mean())})
    return rows


def cluster_rows(dir):
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ml_sklearn_cluster.py")
    if not os.path.exists(path):
        return []
    spec = importlib.util.spec_from_file_location("ml_sklearn_cluster", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.run(dir)


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    dir, tasks = argv[1], set(argv[2:] or ["tree", "forest"])
    unknown = tasks - {"tree", "forest", "cluster"}
    if unknown:
        print(f"unknown tasks: {sorted(unknown)}", file=sys.stderr)
        return 2
    rows = tree_rows(dir, tasks) if tasks & {"tree", "forest"} else []
    if "cluster" in tasks:
        rows += cluster_rows(dir)
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
