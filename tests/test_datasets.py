"""The data layer: every config, the published pipeline (Table 6), formats, bad input."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.io
from sklearn.neighbors import KNeighborsClassifier
from sklearn.svm import SVC

from datasets.base import Dataset, make_split
from datasets.fetch import MissingDataError
from datasets.idx import read_idx
from datasets.matfile import load_scikit_feature
from datasets.registry import list_datasets, load_dataset
from datasets.synthetic import load_synthetic, load_xor
from datasets.table import load_table

# Tests marked `data` need these files; conftest.py skips them without the mirror (or
# fails them under ENTRYPRUNE_REQUIRE_DATA=1).
MIRROR = os.environ.get("ENTRYPRUNE_DATA_MIRROR")

# shape and classes of every file we have, from the mirror's MANIFEST
PRESENT = {
    "coil20": (1440, 1024, 20), "madelon": (2600, 500, 2), "basehock": (1993, 4862, 2),
    "prostate_ge": (102, 5966, 2), "arcene": (200, 10000, 2), "isolet": (1560, 617, 26),
    "usps": (9298, 256, 10), "mnist": (70000, 784, 10), "fashion_mnist": (70000, 784, 10),
    "colon": (62, 2000, 2), "leukemia": (72, 7070, 2), "lymphoma": (96, 4026, 9),
    "allaml": (72, 7129, 2), "orl": (400, 1024, 40), "yale": (165, 1024, 15),
    "warpar10p": (130, 2400, 10), "warppie10p": (210, 2420, 10), "spambase": (4601, 57, 2),
}
BUNDLED = {"digits": (1797, 64, 10), "breast_cancer": (569, 30, 2), "wine": (178, 13, 3),
           "synthetic": (2000, 500, 2), "xor": (2000, 50, 2)}
ABSENT = {"har": "har/UCI HAR Dataset.zip", "smk_can_187": "smk_can_187/SMK_CAN_187.mat",
          "gla_bra_180": "gla_bra_180/GLA-BRA-180.mat",
          "cifar10": "cifar10/cifar-10-python.tar.gz",
          "cifar100": "cifar100/cifar-100-python.tar.gz",
          "isolet_uci": "isolet_uci/isolet1+2+3+4.data.Z"}
GENERIC = {"matfile", "openml", "table"}


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("ENTRYPRUNE_DATA", str(tmp_path / "data"))


def test_every_config_is_covered_here():
    assert set(list_datasets()) == set(PRESENT) | set(BUNDLED) | set(ABSENT) | GENERIC


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_and_synthetic_sets_load(name):
    d = load_dataset(name)
    n, D, C = BUNDLED[name]
    assert d.X.shape == (n, D) and d.n_classes == C and d.X.dtype == np.float32
    assert d.y.min() == 0 and d.y.max() == C - 1


@pytest.mark.data
@pytest.mark.parametrize("name", sorted(PRESENT))
def test_present_datasets_load_with_manifest_shapes(name):
    d = load_dataset(name)
    n, D, C = PRESENT[name]
    assert d.X.shape == (n, D), name
    assert d.n_classes == C and set(np.unique(d.y)) == set(range(C))
    assert d.X.dtype == np.float32 and np.isfinite(d.X).all()
    if name in ("mnist", "fashion_mnist"):
        assert [len(i) for i in d.official_split] == [60000, 10000]
        assert d.X.nbytes == 70000 * 784 * 4  # float32, no float64 copy kept
    if name == "usps":
        assert [len(i) for i in d.official_split] == [7291, 2007]


@pytest.mark.parametrize("name", sorted(ABSENT))
def test_absent_datasets_fail_with_the_expected_file(name, monkeypatch):
    monkeypatch.setenv("ENTRYPRUNE_DATA_MIRROR", str(Path(MIRROR or "/nonexistent")))
    # no network in tests: point every URL of the registry at a closed local port
    from datasets import fetch as fetch_mod
    monkeypatch.setattr(fetch_mod, "download", _refuse_download)
    with pytest.raises(Exception) as info:
        load_dataset(name)
    msg = str(info.value)
    assert ABSENT[name] in msg and "searched" in msg and "expected checksum" in msg
    assert _is_missing(info.value)


def _refuse_download(url, dest, source, timeout=60.0):
    raise OSError(f"network disabled in tests ({url})")


def _is_missing(exc):
    while exc is not None:
        if isinstance(exc, MissingDataError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


@pytest.mark.data
@pytest.mark.parametrize("name,svm,knn", [("coil20", 100.0, 100.0),
                                          ("prostate_ge", 80.95, 76.19),
                                          ("arcene", 77.5, 92.5)])
def test_table6_all_features_reproduced_exactly(name, svm, knn):
    """NeuroFS Table 6: the published pipeline (paper protocol) on all features."""
    s = make_split(load_dataset(name), "paper", seed=0)
    acc_svm = SVC().fit(s.X_train, s.y_train).score(s.X_test, s.y_test) * 100
    knn1 = KNeighborsClassifier(1, algorithm="brute").fit(s.X_train, s.y_train)
    assert round(acc_svm, 2) == svm
    assert round(knn1.score(s.X_test, s.y_test) * 100, 2) == knn


@pytest.mark.slow
@pytest.mark.data
@pytest.mark.parametrize("name,svm", [("mnist", 97.92), ("fashion_mnist", 88.3)])
def test_table6_image_sets(name, svm):
    s = make_split(load_dataset(name), "paper", seed=0)
    acc = SVC().fit(s.X_train, s.y_train).score(s.X_test, s.y_test) * 100
    assert round(acc, 2) == svm


# ------------------------------------------------------------- protocols

def _toy(n=100, official=False):
    rng = np.random.default_rng(0)
    X = rng.random((n, 4), dtype=np.float32) * 10
    y = np.arange(n) % 2
    split = (np.arange(80), np.arange(80, n)) if official else None
    return Dataset("toy", X, y, np.array([0, 1]), official_split=split)


def test_paper_protocol_fixed_split_and_transductive_scaler():
    d = _toy()
    a, b = make_split(d, "paper", 0), make_split(d, "paper", 7)
    assert np.array_equal(a.y_test, b.y_test), "paper split ignores the seed (random_state=42)"
    both = np.vstack([a.X_train, a.X_test])
    assert np.allclose(both.min(0), 0) and np.allclose(both.max(0), 1)


def test_clean_protocol_seeded_stratified_train_only_scaler():
    d = _toy()
    a, b = make_split(d, "clean", 0), make_split(d, "clean", 1)
    assert not np.array_equal(a.X_test, b.X_test)
    assert np.allclose(a.X_train.min(0), 0) and np.allclose(a.X_train.max(0), 1)
    assert abs(a.y_test.mean() - 0.5) < 1e-9, "stratified"
    assert a.X_train.dtype == np.float32


def test_official_split_is_used_by_both_protocols():
    d = _toy(official=True)
    for proto in ("paper", "clean"):
        s = make_split(d, proto, 3)
        assert len(s.y_train) == 80 and len(s.y_test) == 20


def test_synthetic_ground_truth_is_recorded():
    d = load_synthetic(n_samples=500, n_features=40, n_informative=5)
    assert len(d.true_support) == 5
    # true_support names exactly the generator's informative columns after the shuffle
    from sklearn.datasets import make_classification
    X0, _ = make_classification(n_samples=500, n_features=40, n_informative=5, n_redundant=0,
                                n_repeated=0, n_classes=2, class_sep=1.0, shuffle=False,
                                random_state=0)
    informative = {tuple(np.round(c, 4)) for c in X0[:, :5].T.astype(np.float32)}
    assert {tuple(np.round(c, 4)) for c in d.X[:, d.true_support].T} == informative
    # and together they carry the class (hypercube clusters: not every column alone does),
    # while as many noise columns are near chance
    from sklearn.ensemble import ExtraTreesClassifier
    from sklearn.model_selection import cross_val_score
    noise = np.setdiff1d(np.arange(40), d.true_support)[:5]
    et = ExtraTreesClassifier(n_estimators=50, random_state=0)
    acc_true = cross_val_score(et, d.X[:, d.true_support], d.y, cv=3).mean()
    acc_noise = cross_val_score(et, d.X[:, noise], d.y, cv=3).mean()
    # measured 0.89 and 0.52 (3-fold); the bounds leave room for other library versions
    assert acc_true > 0.8 and acc_noise < 0.65, (acc_true, acc_noise)
    from sklearn.feature_selection import f_classif
    x = load_xor(n_samples=2000, n_features=10, n_relevant=2)
    f, _ = f_classif(x.X, x.y)
    assert f[x.true_support].max() < 10, "each xor column alone carries no signal"


# ------------------------------------------------------------- bad input

def test_truncated_gzip_idx(tmp_path):
    raw = (2051).to_bytes(4, "big") + (2).to_bytes(4, "big") + (2).to_bytes(4, "big") * 2
    raw += bytes(8)
    p = tmp_path / "images.gz"
    p.write_bytes(gzip.compress(raw)[:-10])
    with pytest.raises(ValueError, match="images.gz: truncated or corrupt"):
        read_idx(p)


def test_corrupt_mat(tmp_path):
    p = tmp_path / "bad.mat"
    p.write_bytes(b"MATLAB 5.0 MAT-file" + os.urandom(300))
    with pytest.raises(ValueError, match="bad.mat: not a readable"):
        load_scikit_feature("bad", path=str(p))


def test_mat_without_xy_lists_the_keys(tmp_path):
    p = tmp_path / "keys.mat"
    scipy.io.savemat(p, {"data": np.ones((3, 2)), "labels": np.array([1, 2, 1])})
    with pytest.raises(ValueError, match=r"no X/Y or fea/gnd.*\['data', 'labels'\]"):
        load_scikit_feature("k", path=str(p))


def test_mat_fea_gnd_sparse_and_one_based_labels(tmp_path):
    import scipy.sparse as sp
    p = tmp_path / "ok.mat"
    scipy.io.savemat(p, {"fea": sp.csr_matrix(np.eye(4)), "gnd": np.array([[1], [2], [1], [2]]),
                         "X_dis": np.zeros((4, 4))})
    d = load_scikit_feature("ok", path=str(p))
    assert d.X.shape == (4, 4) and d.y.tolist() == [0, 1, 0, 1] and d.classes.tolist() == [1, 2]


def test_mat_v73_through_h5py(tmp_path):
    import h5py
    p = tmp_path / "v73.mat"
    X = np.arange(12, dtype=np.float64).reshape(4, 3)
    with h5py.File(p, "w") as f:  # MATLAB v7.3 stores arrays transposed
        f["X"] = X.T
        f["Y"] = np.array([[-1, 1, -1, 1]], dtype=np.float64)
    d = load_scikit_feature("v73", path=str(p))
    assert np.array_equal(d.X, X.astype(np.float32)) and d.y.tolist() == [0, 1, 0, 1]


def test_mat_with_nan_and_single_class(tmp_path):
    p = tmp_path / "nan.mat"
    X = np.ones((4, 2))
    X[1, 1] = np.nan
    scipy.io.savemat(p, {"X": X, "Y": np.array([1, 2, 1, 2])})
    with pytest.raises(ValueError, match="nan.mat: X holds 1 NaN"):
        load_scikit_feature("n", path=str(p))
    q = tmp_path / "one.mat"
    scipy.io.savemat(q, {"X": np.ones((4, 2)), "Y": np.array([3, 3, 3, 3])})
    with pytest.raises(ValueError, match="single class"):
        load_scikit_feature("o", path=str(q))


def test_table_csv_and_parquet(tmp_path):
    df = pd.DataFrame({"a": [1.0, 2, 3, 4], "b": [0, 1, 0, 1], "label": list("xyxy")})
    df.to_csv(tmp_path / "t.csv", index=False)
    df.to_parquet(tmp_path / "t.parquet")
    for f in ("t.csv", "t.parquet"):
        d = load_table(str(tmp_path / f), target="label")
        assert d.X.shape == (4, 2) and d.classes.tolist() == ["x", "y"]
        assert d.feature_names == ["a", "b"]
    msg = r"no target column 'cls'; columns are \['a', 'b', 'label'\]"
    with pytest.raises(ValueError, match=msg):
        load_table(str(tmp_path / "t.csv"), target="cls")


def test_table_bad_files(tmp_path):
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValueError, match="empty.csv"):
        load_table(str(tmp_path / "empty.csv"), target="y")
    pd.DataFrame({"a": ["u", "v"], "y": [0, 1]}).to_csv(tmp_path / "obj.csv", index=False)
    with pytest.raises(ValueError, match=r"non-numeric feature columns \['a'\]"):
        load_table(str(tmp_path / "obj.csv"), target="y")
