"""scikit-learn side of the k-means and KNN benchmark rows (bench/ml-cluster.ts).

run(dir) reads the CSVs that bench/ml-cluster.ts wrote into dir, times scikit-learn and returns
one dict per row: task, sk1Sec (1 thread), sk2Sec (2 threads / n_jobs=2), accSk, note, plus extra
keys for the TypeScript side. It also writes sklearn's neighbour indices to dir so the TypeScript
side can count identical neighbour sets. Run directly, it prints the rows as JSON.
"""
import json
import os
import sys
import time

import numpy as np
from threadpoolctl import threadpool_limits
from sklearn.cluster import KMeans
from sklearn.neighbors import NearestNeighbors


def _load(path):
    return np.loadtxt(path, delimiter=",", dtype=np.float64)


def _best(fn, reps=3):
    best, out = float("inf"), None
    for _ in range(reps):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def run(dir):
    rows = []
    X = _load(os.path.join(dir, "kmeans.csv"))
    init = _load(os.path.join(dir, "kmeans-init.csv"))
    max_iter = 50

    for algorithm in ("lloyd", "elkan"):
        def km():
            return KMeans(n_clusters=init.shape[0], init=init, n_init=1, max_iter=max_iter, tol=0, algorithm=algorithm).fit(X)

        per = {}
        for threads in (1, 2):
            with threadpool_limits(threads):
                sec, m = _best(km)
            per[threads] = sec / m.n_iter_
        rows.append({
            "task": f"k-means iteration vs sk {algorithm} (50k x 16, k=8)", "sk1Sec": per[1], "sk2Sec": per[2], "accSk": None,
            "inertia": float(m.inertia_), "nIter": int(m.n_iter_),
            "note": "sk2 = 2 OpenMP threads (KMeans has no n_jobs)",
        })

    P = _load(os.path.join(dir, "knn.csv"))
    Q = _load(os.path.join(dir, "knn-queries.csv"))
    for metric in ("euclidean", "cosine"):
        times = {}
        for jobs in (1, 2):
            nn = NearestNeighbors(n_neighbors=10, algorithm="brute", metric=metric, n_jobs=jobs).fit(P)
            with threadpool_limits(jobs):
                nn.kneighbors(Q[:10])  # warm-up
                times[jobs], (_, idx) = _best(lambda: nn.kneighbors(Q))
        np.savetxt(os.path.join(dir, f"sk-knn-{metric}.csv"), idx, fmt="%d", delimiter=",")
        rows.append({
            "task": f"KNN {metric} (50k x 32, 1k queries, k=10)", "sk1Sec": times[1], "sk2Sec": times[2],
            "accSk": None, "note": "brute; sk2 = n_jobs=2",
        })
    return rows


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1] if len(sys.argv) > 1 else "/tmp/mlb")))
