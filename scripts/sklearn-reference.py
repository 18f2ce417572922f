#!/usr/bin/python3
"""Writes the scikit-learn reference fixtures that src/ml's tests compare against.

Run with Debian's python3-sklearn (not in CI):  /usr/bin/python3 scripts/sklearn-reference.py

Writes datasets/iris.csv and, under src/ml/fixtures/:
  trees-synth.csv       2,000 x 20 make_classification data (3 classes), last column the label
  trees-reference.json  decision tree and random forest test accuracy on iris and trees-synth
  grid-iris.json        GridSearchCV on iris for seed 003's default grids
  grid-folds.json       StratifiedKFold / KFold test folds, to check our fold assignment
  grid-metrics.json     scorer values on small label vectors
The train/test split of both datasets is seed-independent: row i is a test row iff i % 5 == 4.
If scripts/sklearn_ref_cluster.py exists, its main(out_dir) writes the clustering fixtures too.
"""
import importlib.util
import json
import os
import sys

import numpy as np
import sklearn
from sklearn.datasets import load_iris, make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, mean_squared_error, r2_score
from sklearn.model_selection import GridSearchCV, KFold, StratifiedKFold
from sklearn.tree import DecisionTreeClassifier

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "src", "ml", "fixtures")
SEEDS = [0, 1, 2, 3, 4]


def write_json(name, obj):
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", os.path.join("src/ml/fixtures", name))


def read_csv(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    return data[:, :-1], data[:, -1].astype(int)


def export_iris():
    d = load_iris()
    path = os.path.join(ROOT, "datasets", "iris.csv")
    with open(path, "w") as f:
        f.write("sepal_length,sepal_width,petal_length,petal_width,species\n")
        for x, y in zip(d.data, d.target):
            f.write(",".join(repr(float(v)) for v in x) + "," + str(int(y)) + "\n")
    print("wrote datasets/iris.csv (species 0=setosa, 1=versicolor, 2=virginica)")
    return read_csv(path)


def export_synth():
    x, y = make_classification(
        n_samples=2000, n_features=20, n_informative=10, n_redundant=4, n_classes=3,
        n_clusters_per_class=2, class_sep=1.0, random_state=0,
    )
    path = os.path.join(OUT, "trees-synth.csv")
    with open(path, "w") as f:
        f.write(",".join(f"x{j}" for j in range(20)) + ",label\n")
        for row, label in zip(x, y):
            f.write(",".join("%.6g" % v for v in row) + "," + str(int(label)) + "\n")
    print("wrote src/ml/fixtures/trees-synth.csv")
    return read_csv(path)  # re-read so sklearn sees exactly the rounded values the TS test reads


def split(x, y):
    test = np.arange(len(y)) % 5 == 4
    return x[~test], y[~test], x[test], y[test]


def accuracies(make, x, y):
    xtr, ytr, xte, yte = split(x, y)
    accs = [accuracy_score(yte, make(s).fit(xtr, ytr).predict(xte)) for s in SEEDS]
    return {"seeds": SEEDS, "test_accuracy": accs, "mean": float(np.mean(accs)), "min": min(accs), "max": max(accs)}


def tree_reference(datasets):
    out = {"split": "row i is a test row iff i % 5 == 4", "sklearn_version": sklearn.__version__}
    for name, (x, y) in datasets.items():
        out[name] = {
            "n_rows": int(len(y)),
            "decision_tree_gini": accuracies(lambda s: DecisionTreeClassifier(random_state=s), x, y),
            "decision_tree_entropy_depth5": accuracies(
                lambda s: DecisionTreeClassifier(criterion="entropy", max_depth=5, random_state=s), x, y),
            "random_forest_100": accuracies(
                lambda s: RandomForestClassifier(n_estimators=100, max_features="sqrt", random_state=s, n_jobs=1), x, y),
        }
    write_json("trees-reference.json", out)


def grid_reference(x, y):
    def run(est, grid):
        g = GridSearchCV(est, grid, cv=StratifiedKFold(5), scoring="accuracy").fit(x, y)
        r = g.cv_results_
        return {
            "grid": grid,
            "params": [dict(p) for p in r["params"]],
            "mean_test_score": r["mean_test_score"].tolist(),
            "std_test_score": r["std_test_score"].tolist(),
            "rank_test_score": r["rank_test_score"].tolist(),
            "split_test_scores": [r[f"split{k}_test_score"].tolist() for k in range(5)],
            "best_params": g.best_params_,
            "best_score": g.best_score_,
            "best_index": int(g.best_index_),
        }

    dt_grid = {"max_depth": [2, 5, 7, 10], "criterion": ["entropy", "gini"]}
    rf_grid = {"n_estimators": [10, 50, 100], "max_depth": [2, 5, 7, 10]}
    out = {
        "sklearn_version": sklearn.__version__,
        "cv": "StratifiedKFold(5), no shuffle; scoring accuracy",
        # sklearn's trees break ties between equally good splits at random, so the tree grid is
        # recorded for several random_state values to show how much the scores move.
        "decision_tree": {str(s): run(DecisionTreeClassifier(random_state=s), dt_grid) for s in SEEDS},
        "random_forest": {str(s): run(RandomForestClassifier(random_state=s), rf_grid) for s in SEEDS[:3]},
    }
    write_json("grid-iris.json", out)


def folds_reference(y_iris):
    y_small = np.array([2, 0, 1, 1, 0, 2, 1, 1, 0, 1, 1, 2, 1, 0, 1, 1, 0, 1, 2, 1, 0, 0, 1])
    def test_folds(splits, n):
        f = np.full(n, -1)
        for k, (_, te) in enumerate(splits):
            f[te] = k
        return f.tolist()
    out = {
        "y_small": y_small.tolist(),
        "stratified_iris_5": test_folds(StratifiedKFold(5).split(np.zeros(150), y_iris), 150),
        "stratified_small_3": test_folds(StratifiedKFold(3).split(np.zeros(23), y_small), 23),
        "stratified_small_5": test_folds(StratifiedKFold(5).split(np.zeros(23), y_small), 23),
        "kfold_23_5": test_folds(KFold(5).split(np.zeros(23)), 23),
    }
    write_json("grid-folds.json", out)


def metrics_reference():
    yt = [0, 1, 2, 2, 1, 0, 2, 2, 1, 0]
    yp = [0, 2, 2, 2, 1, 1, 0, 2, 1, 3]
    rt = [3.0, -0.5, 2.0, 7.0, 4.2]
    rp = [2.5, 0.0, 2.0, 8.0, 3.9]
    out = {
        "y_true": yt, "y_pred": yp, "r_true": rt, "r_pred": rp,
        "accuracy": accuracy_score(yt, yp),
        "balanced_accuracy": balanced_accuracy_score(yt, yp),
        "f1_macro": f1_score(yt, yp, average="macro", zero_division=0),
        "r2": r2_score(rt, rp),
        "mean_squared_error": mean_squared_error(rt, rp),
    }
    write_json("grid-metrics.json", out)


def run_cluster_reference():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sklearn_ref_cluster.py")
    if not os.path.exists(path):
        print("no scripts/sklearn_ref_cluster.py: skipping the clustering fixtures")
        return
    spec = importlib.util.spec_from_file_location("sklearn_ref_cluster", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.main(OUT)


def main():
    os.makedirs(OUT, exist_ok=True)
    import warnings
    warnings.simplefilter("ignore")  # StratifiedKFold's small-class warning on y_small
    xi, yi = export_iris()
    xs, ys = export_synth()
    tree_reference({"iris": (xi, yi), "synth": (xs, ys)})
    grid_reference(xi, yi)
    folds_reference(yi)
    metrics_reference()
    run_cluster_reference()
    return 0


if __name__ == "__main__":
    sys.exit(main())
