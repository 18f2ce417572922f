"""Reference values from scikit-learn for src/ml k-means, TF-IDF and exact KNN.

Run with Debian's python3-sklearn:  /usr/bin/python3 scripts/sklearn_ref_cluster.py
scripts/sklearn-reference.py imports this file and calls main(out_dir) to write all fixtures.
Every fixture carries its input data, so the TypeScript tests need no RNG parity with numpy.
"""
import json
import os
import sys

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import pairwise_distances
from sklearn.neighbors import NearestNeighbors


def _write(out_dir, name, obj):
    obj = {"generator": "scripts/sklearn_ref_cluster.py", "sklearn": sklearn.__version__, **obj}
    with open(os.path.join(out_dir, name), "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")


def kmeans_fixtures(out_dir):
    # sklearn's test_kmeans_results case, weighted and as the equivalent repeated rows.
    X = np.array([[0, 0], [0.5, 0], [0.5, 1], [1, 1]], dtype=float)
    w = np.array([3, 1, 1, 3], dtype=float)
    init = np.array([[0, 0], [1, 1]], dtype=float)
    km = KMeans(n_clusters=2, init=init, n_init=1, algorithm="lloyd").fit(X, sample_weight=w)
    Xr = np.repeat(X, w.astype(int), axis=0)
    kr = KMeans(n_clusters=2, init=init, n_init=1, algorithm="lloyd").fit(Xr)
    assert abs(km.inertia_ - 0.375) < 1e-12 and abs(kr.inertia_ - 0.375) < 1e-12
    _write(out_dir, "kmeans-hand.json", {
        "X": X.tolist(), "sampleWeight": w.tolist(), "XRepeated": Xr.tolist(), "init": init.tolist(),
        "inertia": km.inertia_, "inertiaRepeated": kr.inertia_,
        "centers": km.cluster_centers_.tolist(), "labels": km.labels_.tolist(), "labelsRepeated": kr.labels_.tolist(),
    })

    Xb, _ = make_blobs(n_samples=600, centers=5, n_features=6, cluster_std=2.5, random_state=7)
    init = Xb[:5].copy()
    fixed = KMeans(n_clusters=5, init=init, n_init=1, max_iter=300, tol=1e-4, algorithm="lloyd").fit(Xb)
    pp = KMeans(n_clusters=5, init="k-means++", n_init=10, random_state=0, algorithm="lloyd").fit(Xb)
    _write(out_dir, "kmeans-blobs.json", {
        "X": Xb.tolist(), "nClusters": 5, "tol": 1e-4,
        "fixedInit": {"init": init.tolist(), "inertia": fixed.inertia_, "centers": fixed.cluster_centers_.tolist(),
                      "labels": fixed.labels_.tolist(), "nIter": int(fixed.n_iter_)},
        "kmeansPlusPlus": {"nInit": 10, "inertia": pp.inertia_, "centers": pp.cluster_centers_.tolist()},
    })


CORPUS = [
    "Electronics",
    "Home & Kitchen",
    "Books",
    "Books, books and more BOOKS!",
    "Kitchen knives (set of 3) - stainless steel; 20cm",
    "Smart-home electronics: Wi-Fi plug, 2 pack",
    "Café crème cups for the home kitchen",
    "Naïve Bayes & Machine Learning (2nd ed.) book",
    "USB-C cable 1m / 2m, electronics accessories",
    "home home home, sweet home",
    "Straße-Ausgabe: Bücher über Küche",
    "x² and 日本語 titles, _under_score_ and a b c",
]
TFIDF_CONFIGS = [
    {"name": "defaults", "sk": {}, "ours": {}},
    {"name": "bigrams-sublinear-mindf", "sk": {"ngram_range": [1, 2], "sublinear_tf": True, "min_df": 2},
     "ours": {"ngramRange": [1, 2], "sublinearTf": True, "minDf": 2}},
    # max_features=4 cuts between total counts 3 and 1: sklearn 1.2 ranks with an unstable
    # argsort, so a cut inside a group of equal counts would keep an arbitrary subset.
    {"name": "maxdf-l1-maxfeatures", "sk": {"max_df": 0.3, "norm": "l1", "max_features": 4},
     "ours": {"maxDf": 0.3, "norm": "l1", "maxFeatures": 4}},
]
TFIDF_QUERIES = ["new electronics for the kitchen", "BOOKS about café, unseen-words 42"]


def tfidf_fixtures(out_dir):
    configs = []
    for c in TFIDF_CONFIGS:
        sk = dict(c["sk"])
        if "ngram_range" in sk:
            sk["ngram_range"] = tuple(sk["ngram_range"])
        v = TfidfVectorizer(**sk)
        M = v.fit_transform(CORPUS)
        configs.append({
            "name": c["name"], "params": c["ours"],
            "features": v.get_feature_names_out().tolist(), "idf": v.idf_.tolist(),
            "dense": M.toarray().tolist(), "queryDense": v.transform(TFIDF_QUERIES).toarray().tolist(),
        })
    _write(out_dir, "tfidf-corpus.json", {"corpus": CORPUS, "queries": TFIDF_QUERIES, "configs": configs})


def _knn(X, Q, k, metric):
    nn = NearestNeighbors(n_neighbors=k, algorithm="brute", metric=metric).fit(X)
    d, i = nn.kneighbors(Q)
    # sklearn's sparse path selects with np.argpartition, so the order inside groups of tied
    # distances is arbitrary. "stable" is the same neighbours ordered by (distance rounded to
    # 12 decimals, index): the lower-index tie rule of sklearn's dense path, which ours follows.
    D = pairwise_distances(Q, X, metric=metric)
    si, sd = [], []
    for row in D:
        order = np.lexsort((np.arange(row.size), np.round(row, 12)))[:k]
        si.append(order.tolist())
        sd.append(row[order].tolist())
    assert np.allclose(np.sort(d, axis=1), np.array(sd), rtol=0, atol=1e-12)
    return {"indices": i.tolist(), "distances": d.tolist(), "stable": {"indices": si, "distances": sd}}


def knn_fixtures(out_dir):
    rng = np.random.default_rng(42)
    X = np.round(rng.normal(size=(200, 8)), 6)
    Q = np.round(rng.normal(size=(25, 8)), 6)
    _write(out_dir, "knn-dense.json", {
        "X": X.tolist(), "Q": Q.tolist(), "k": 6,
        "euclidean": _knn(X, Q, 6, "euclidean"), "cosine": _knn(X, Q, 6, "cosine"),
    })
    # An item×user count matrix: Poisson counts, mostly zeros, queried with some of its own rows.
    C = rng.poisson(0.35, size=(150, 60)).astype(float) * rng.integers(1, 4, size=(150, 1))
    C[7] = 0.0  # an item nobody interacted with
    Cs = sp.csr_matrix(C)
    Qs = Cs[[0, 7, 19, 33, 64, 101, 149]]
    _write(out_dir, "knn-sparse.json", {
        "rows": C.shape[0], "cols": C.shape[1],
        "indptr": Cs.indptr.tolist(), "indices": Cs.indices.tolist(), "data": Cs.data.tolist(),
        "queryRows": [0, 7, 19, 33, 64, 101, 149], "k": 5,
        "euclidean": _knn(Cs, Qs, 5, "euclidean"), "cosine": _knn(Cs, Qs, 5, "cosine"),
    })


def main(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    kmeans_fixtures(out_dir)
    tfidf_fixtures(out_dir)
    knn_fixtures(out_dir)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "src/ml/fixtures")
