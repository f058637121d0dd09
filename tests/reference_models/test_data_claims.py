"""Each data set says what it holds: the splits a loader makes, the images it did not find, the points it read."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from reference_models.data import REGRESSION_HELD_OUT, load_for
from reference_models.data.circles import load_circles_csv, make_circles_split
from reference_models.data.fer import load_fer2013
from reference_models.data.generate import make_data
from reference_models.data.hw2 import load_hw2
from reference_models.data.regression import load_xy_csv
from reference_models.errors import ModelError

# ---------------------------------------------------------------- circles: --data and --seed mean what they say


def test_the_csv_that_make_data_writes_is_the_data_train_reads(tmp_path: Path) -> None:
    (path,) = make_data("circles", tmp_path, seed=5)
    made_train, made_test = make_circles_split(5)
    train, test = load_for("circles", path, "train"), load_for("circles", path, "test")
    assert np.allclose(train.x, made_train.x, atol=1e-6) and train.y.tolist() == made_train.y.tolist()
    assert np.allclose(test.x, made_test.x, atol=1e-6) and len(train) == 70 and len(test) == 30
    assert train.notes == ()  # the file says which point is which: nothing was decided for it
    assert np.allclose(load_for("circles", tmp_path, "train").x, train.x)  # the folder make-data wrote works too


def test_the_seed_makes_the_points_without_data() -> None:
    five, zero = load_for("circles", None, "train", seed=5), load_for("circles", None, "train", seed=0)
    assert np.array_equal(five.x, make_circles_split(5)[0].x) and not np.allclose(five.x, zero.x)


def test_a_circles_csv_without_split_is_split_with_the_stated_seed(tmp_path: Path) -> None:
    x, y = make_circles_split(0)[0].x, make_circles_split(0)[0].y
    lines = ["x1,x2,label"] + [f"{a},{b},{c}" for (a, b), c in zip(x, y, strict=True)]
    (tmp_path / "c.csv").write_text("\n".join(lines) + "\n")
    train, test = (load_circles_csv(tmp_path / "c.csv", part, seed=3) for part in ("train", "test"))
    assert len(train) + len(test) == 70 and set(train.ids).isdisjoint(test.ids)
    assert train.notes == test.notes and "has no split column" in train.notes[0] and "seed 3" in train.notes[0]


CIRCLES_BAD = [
    ("garbage", b"\x00\x01garbage\xff", r"byte .* is not UTF-8"),
    (
        "header",
        "a,b,c\n1,2,0\n",
        r"line 1: the header is \['a', 'b', 'c'\]; expected the columns x1,x2,label\[,split\]",
    ),
    ("number", "x1,x2,label,split\n1,abc,0,train\n", r"line 2: x1 and x2 must be numbers, got '1' and 'abc'"),
    ("label", "x1,x2,label,split\n1,2,2,train\n", r"line 2: label must be 0 \(outer\) or 1 \(inner\), got '2'"),
    ("split", "x1,x2,label,split\n1,2,0,dev\n", r"line 2: split must be 'train' or 'test', got 'dev'"),
    ("no-test", "x1,x2,label,split\n1,2,0,train\n2,1,1,train\n", r"no row has split 'test'"),
    ("nan", "x1,x2,label,split\nnan,2,0,train\n", r"line 2: x1 and x2 must be finite numbers"),
]


@pytest.mark.parametrize(("content", "message"), [c[1:] for c in CIRCLES_BAD], ids=[c[0] for c in CIRCLES_BAD])
def test_a_bad_circles_csv_is_refused(tmp_path: Path, content: str | bytes, message: str) -> None:
    path = tmp_path / "garbage.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ModelError, match=message):
        load_for("circles", path, "train")


# ---------------------------------------------------------------- FER without Usage: split, and said so


def _fer(path: Path, n: int, *, usage: bool) -> None:
    rng = np.random.default_rng(0)
    rows = ["emotion,pixels" + (",Usage" if usage else "")]
    for i in range(n):
        pixels = " ".join(str(v) for v in rng.integers(0, 256, 48 * 48))
        rows.append(f"{i % 7},{pixels}" + (",Training" if usage else ""))
    path.write_text("\n".join(rows) + "\n")


def test_fer_without_usage_is_split_80_10_10_with_the_seed_and_says_so(tmp_path: Path) -> None:
    _fer(tmp_path / "train.csv", 40, usage=False)
    parts = {p: load_fer2013(tmp_path / "train.csv", p, seed=4) for p in ("train", "val", "test")}
    assert [len(parts[p]) for p in ("train", "val", "test")] == [32, 4, 4]
    ids = [set(parts[p].ids) for p in parts]
    assert (
        ids[0].isdisjoint(ids[1]) and ids[0].isdisjoint(ids[2]) and ids[1].isdisjoint(ids[2])
    )  # evaluate never scores training rows
    assert set().union(*ids) == {str(i) for i in range(40)}
    note = parts["test"].notes[0]
    assert "has no Usage column" in note and "seed 4" in note and "32 train, 4 validation and 4 test" in note
    other = load_fer2013(tmp_path / "train.csv", "test", seed=5)
    assert other.ids != parts["test"].ids  # the seed chooses the split
    assert load_for("fer", tmp_path / "train.csv", "test", seed=4).ids == parts["test"].ids


def test_fer_with_usage_says_nothing_and_an_unlabeled_file_keeps_every_row(tmp_path: Path) -> None:
    _fer(tmp_path / "u.csv", 5, usage=True)
    assert load_fer2013(tmp_path / "u.csv", "train").notes == ()
    rng = np.random.default_rng(1)
    (tmp_path / "test.csv").write_text(
        "pixels\n" + "\n".join(" ".join(map(str, rng.integers(0, 256, 2304))) for _ in range(3)) + "\n"
    )
    unlabeled = load_fer2013(tmp_path / "test.csv", "test")
    assert len(unlabeled) == 3 and unlabeled.y is None and unlabeled.notes == ()


def test_fer_too_small_to_split_is_refused(tmp_path: Path) -> None:
    _fer(tmp_path / "t.csv", 2, usage=False)
    with pytest.raises(
        ModelError, match=r"no Usage column and only 2 row\(s\); a train/validation/test split needs 3 or more"
    ):
        load_fer2013(tmp_path / "t.csv", "train")


# ---------------------------------------------------------------- CIFAR: a partial folder is counted


def _batch(path: Path, n: int) -> None:
    data = np.zeros((n, 3072), np.uint8)
    path.write_bytes(pickle.dumps({b"labels": [i % 10 for i in range(n)], b"data": data}, protocol=2))


def test_a_partial_cifar_folder_says_how_many_images_it_found(tmp_path: Path) -> None:
    for i in (1, 3):
        _batch(tmp_path / f"data_batch_{i}", 6)
    _batch(tmp_path / "test_batch", 4)
    train = load_for("cifar", tmp_path, "train")
    note = "found 12 of CIFAR-10's 50,000 train images (missing data_batch_2, data_batch_4, data_batch_5)."
    assert train.notes == (f"{tmp_path}: {note}",)
    assert load_for("cifar", tmp_path, "val").notes == train.notes  # the held-out tenth carries it too
    assert load_for("cifar", tmp_path, "test").notes == (f"{tmp_path}: found 4 of CIFAR-10's 10,000 test images.",)


# ---------------------------------------------------------------- regression: validation on held-out pairs


def test_regression_validation_is_held_out_pairs_never_the_ends() -> None:
    pairs = load_xy_csv()
    for seed in range(6):
        train, val = load_for("regression", None, "train", seed=seed), load_for("regression", None, "val", seed=seed)
        assert len(val) == round(REGRESSION_HELD_OUT * len(pairs)) == 5 and len(train) == 15
        assert set(train.ids).isdisjoint(val.ids) and set(train.ids) | set(val.ids) == set(pairs.ids)
        assert pairs.x.min() in train.x and pairs.x.max() in train.x  # validation measures the fit, not extrapolation
        assert "held out" in val.notes[0] and f"seed {seed}" in val.notes[0]
    assert len(load_for("regression", None, "test")) == 20  # evaluate scores all of them


def test_the_regression_loader_says_folder_for_a_folder(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r": is a folder; pass the CSV file of x,y pairs itself"):
        load_xy_csv(tmp_path)
    with pytest.raises(ModelError, match=r": no such file; pass a CSV of x,y pairs"):
        load_xy_csv(tmp_path / "nope.csv")


# ---------------------------------------------------------------- HW2: a labels.csv row with empty box cells


def _hw2(tmp_path: Path, rows: list[str]) -> Path:
    from PIL import Image

    for i in range(len(rows)):
        Image.fromarray(np.zeros((128, 128), np.uint8)).save(tmp_path / f"{i:07d}.png")
    (tmp_path / "labels.csv").write_text("image,class,x,y,width,height\n" + "\n".join(rows) + "\n")
    return tmp_path


def test_labels_with_empty_box_cells_load_without_boxes_and_say_so(tmp_path: Path) -> None:
    data = load_hw2(_hw2(tmp_path, ["0000000.png,3,1,2,3,4", "0000001.png,5,,,,", "0000002.png,7"]))
    assert data.y.tolist() == [3, 5, 7] and data.boxes is None
    assert "2 row(s) have no box (line 3, 4)" in data.notes[0] and "training does not move the digits" in data.notes[0]


def test_labels_with_half_a_box_are_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(
        ModelError,
        match=r"line 2: x, y, width and height must be whole numbers \(or all four empty\), got \['1', '2', '', ''\]",
    ):
        load_hw2(_hw2(tmp_path, ["0000000.png,3,1,2"]))
