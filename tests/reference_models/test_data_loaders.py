"""CIFAR-10 batches, FER2013 CSV, the regression CSV and the circles, on tiny files in the real formats."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest

from reference_models.data import load_for
from reference_models.data.cifar import load_cifar10, safe_unpickle
from reference_models.data.circles import load_circles, make_circles_split
from reference_models.data.fer import load_fer2013
from reference_models.data.regression import SAMPLE_CSV, load_xy_csv, make_sample, sample_function
from reference_models.errors import ModelError


def _batch(path: Path, n: int, seed: int) -> tuple[np.ndarray, list[int]]:
    rng = np.random.default_rng(seed)
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    labels = [int(v) for v in rng.integers(0, 10, size=n)]
    path.write_bytes(
        pickle.dumps(
            {b"batch_label": b"training batch", b"labels": labels, b"data": data, b"filenames": [b"a.png"] * n},
            protocol=2,
        )
    )
    return data, labels


def test_cifar_reads_the_standard_batches(tmp_path: Path) -> None:
    root = tmp_path / "cifar-10-batches-py"
    root.mkdir()
    parts = [_batch(root / f"data_batch_{i}", 3, i) for i in range(1, 6)]
    test_data, test_labels = _batch(root / "test_batch", 4, 9)
    train = load_cifar10(tmp_path)  # the folder that holds cifar-10-batches-py works too
    assert train.x.shape == (15, 3, 32, 32) and train.y.tolist() == sum((p[1] for p in parts), [])
    # channel-major rows: the first 1024 values are the red plane
    assert np.array_equal(train.x[0, 0].ravel(), parts[0][0][0, :1024])
    test = load_cifar10(root, "test")
    assert test.y.tolist() == test_labels and test.classes[0] == "airplane"


def test_cifar_refuses_a_pickle_that_would_run_code(tmp_path: Path) -> None:
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    (tmp_path / "test_batch").write_bytes(pickle.dumps({b"data": Evil(), b"labels": []}))
    with pytest.raises(ModelError, match=r"not a CIFAR-10 python batch \(global .*system is not allowed"):
        load_cifar10(tmp_path, "test")
    assert safe_unpickle(pickle.dumps([1, "a"])) == [1, "a"]


CIFAR_BAD = [
    ("keys", {b"pixels": 1}, r"expected a dict with b'data' and b'labels'"),
    ("shape", {b"data": np.zeros((2, 10), np.uint8), b"labels": [0, 1]}, r"b'data' is \(2, 10\), expected \(N, 3072\)"),
    ("label", {b"data": np.zeros((1, 3072), np.uint8), b"labels": [10]}, r"labels must lie in 0..9, found 10..10"),
]


@pytest.mark.parametrize(("batch", "message"), [b[1:] for b in CIFAR_BAD], ids=[b[0] for b in CIFAR_BAD])
def test_cifar_bad_batches(tmp_path: Path, batch: dict, message: str) -> None:
    (tmp_path / "test_batch").write_bytes(pickle.dumps(batch))
    with pytest.raises(ModelError, match=message):
        load_cifar10(tmp_path, "test")


def test_cifar_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no data_batch_1 / .* found"):
        load_cifar10(tmp_path)


def _fer(path: Path, rows: list[tuple[str, str, str]], header: str = "emotion,pixels,Usage") -> Path:
    path.write_text(header + "\n" + "".join(",".join(r) + "\n" for r in rows))
    return path


def _pixels(value: int) -> str:
    return " ".join([str(value)] * 48 * 48)


def test_fer_splits_by_usage(tmp_path: Path) -> None:
    f = _fer(
        tmp_path / "fer2013.csv",
        [
            ("0", _pixels(1), "Training"),
            ("3", _pixels(2), "PublicTest"),
            ("6", _pixels(3), "Training"),
            ("4", _pixels(4), "PrivateTest"),
        ],
    )
    train = load_fer2013(f, "train")
    assert train.x.shape == (2, 1, 48, 48) and train.y.tolist() == [0, 6] and train.ids == ("0", "2")
    assert int(train.x[1].max()) == 3
    assert load_fer2013(tmp_path, "val").y.tolist() == [3]  # a folder holding one CSV works too
    assert load_fer2013(f, "test").y.tolist() == [4]
    assert load_fer2013(f).classes[3] == "happy"


def test_fer_without_private_rows_tests_on_public_and_unlabeled_files_load(tmp_path: Path) -> None:
    f = _fer(tmp_path / "a.csv", [("2", _pixels(0), "Training"), ("5", _pixels(9), "PublicTest")])
    assert load_fer2013(f, "test").y.tolist() == [5]
    g = tmp_path / "b.csv"
    g.write_text("pixels\n" + _pixels(7) + "\n")
    assert load_fer2013(g, "test").y is None


FER_BAD = [
    ("pixels", [("0", "1 2 3", "Training")], r"line 2: expected 2304 pixels from 0 to 255, got 3 values"),
    ("emotion", [("9", _pixels(0), "Training")], r"line 2: emotion '9' is not a number from 0 to 6"),
    ("text", [("1", "a b", "Training")], r"line 2: pixels must be integers"),
    ("split", [("1", _pixels(0), "PublicTest")], r"no rows for the 'train' split \(Usage 'training'\)"),
]


@pytest.mark.parametrize(("rows", "message"), [b[1:] for b in FER_BAD], ids=[b[0] for b in FER_BAD])
def test_fer_bad_files(tmp_path: Path, rows: list, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        load_fer2013(_fer(tmp_path / "f.csv", rows), "train")


def test_fer_wrong_header(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"the header is \['label', 'image'\]"):
        load_fer2013(_fer(tmp_path / "f.csv", [("1", "2", "3")], header="label,image"))


def test_the_shipped_regression_sample_is_the_documented_function() -> None:
    data = load_xy_csv()
    assert data.x.shape == (20, 1) and data.y.shape == (20, 1)
    x, y = make_sample()
    assert np.allclose(data.x.ravel(), x) and np.allclose(data.y.ravel(), y, atol=1e-4)
    assert np.mean((sample_function(x) - y) ** 2) < 0.02  # noise sigma 0.1
    assert load_xy_csv(SAMPLE_CSV).x.shape == (20, 1)


@pytest.mark.parametrize(
    "text",
    ["x,y\n1,2\n3,4\n", "1;2\n3;4\n", "1\t2\n3\t4\n\n", "\ufeffX , Y\n1 , 2\n3 , 4\n"],
    ids=["header", "semicolon", "tab", "bom-spaces"],
)
def test_regression_csv_dialects(tmp_path: Path, text: str) -> None:
    (tmp_path / "d.csv").write_text(text, encoding="utf-8")
    data = load_xy_csv(tmp_path / "d.csv")
    assert data.x.ravel().tolist() == [1, 3] and data.y.ravel().tolist() == [2, 4]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("x,y\n1,2\n3,abc\n", r"line 3: expected two numbers x,y, got \['3', 'abc'\]"),
        ("x,y\n1,2\n", r"found 1 \(x, y\) pair\(s\)"),
        ("1,nan\n2,3\n", "two finite numbers"),
    ],
    ids=["text", "too-few", "nan"],
)
def test_regression_bad_csv(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "d.csv").write_text(text)
    with pytest.raises(ModelError, match=message):
        load_xy_csv(tmp_path / "d.csv")


def test_circles_are_the_handouts_100_points_split_70_30() -> None:
    train, test = make_circles_split(seed=0)
    assert (len(train), len(test)) == (70, 30) and not set(train.ids) & set(test.ids)
    assert train.y.sum() == 35 and test.y.sum() == 15  # stratified
    every = load_circles("all")
    assert len(every) == 100 and every.ids == tuple(str(i) for i in range(100))
    from sklearn.datasets import make_circles

    x, y = make_circles(n_samples=100, factor=0.1, noise=0.1, random_state=0)
    assert np.allclose(every.x, x.astype(np.float32)) and np.array_equal(every.y, y)
    assert np.array_equal(make_circles_split(seed=0)[0].x, train.x)


def test_load_for_needs_data_for_file_tasks() -> None:
    with pytest.raises(ModelError, match="pass --data"):
        load_for("cifar", None, "train")
    assert len(load_for("circles", None, "val")) == 30
