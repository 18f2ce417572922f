#!/usr/bin/python3
"""scikit-learn side of bench/models.ts: GridSearchCV on iris with seed 003's two default grids
(5 stratified folds, accuracy), as the original service ran them. Prints JSON
[{grid, best_sec, median_sec, best_params, best_score}] over REPS runs.

Usage: /usr/bin/python3 bench/models_sklearn.py datasets/iris.csv [REPS]
"""
import json
import sys
import time

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.tree import DecisionTreeClassifier

data = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
x, y = data[:, :-1], data[:, -1].astype(np.int64)
reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
out = []
for name, est, grid in [
    ("decision_tree", DecisionTreeClassifier(), {"max_depth": [2, 5, 7, 10], "criterion": ["entropy", "gini"]}),
    ("random_forest", RandomForestClassifier(), {"n_estimators": [10, 50, 100], "max_depth": [2, 5, 7, 10]}),
]:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        g = GridSearchCV(est, grid, cv=5, scoring="accuracy").fit(x, y)
        times.append(time.perf_counter() - t)
    out.append({"grid": name, "best_sec": min(times), "median_sec": float(np.median(times)), "best_params": g.best_params_, "best_score": g.best_score_})
print(json.dumps(out))
