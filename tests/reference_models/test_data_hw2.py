"""The HW2 generator and loader: shapes, boxes, disjoint sources, seeds, the on-disk layout, bad folders."""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reference_models.data.hw2 import IMAGE_SIZE, SIZES, generate_hw2, load_hw2, render, reposition, source_split
from reference_models.errors import ModelError


@pytest.fixture(scope="module")
def small() -> object:
    return render(60, split="train", seed=5)


def test_shapes_labels_and_ids(small) -> None:
    assert small.x.shape == (60, 1, IMAGE_SIZE, IMAGE_SIZE) and small.x.dtype == np.uint8
    assert small.y.shape == (60,) and set(small.y) <= set(range(10))
    assert small.ids[:2] == ("0000000.png", "0000001.png")
    assert small.boxes.shape == (60, 4)


def test_boxes_lie_inside_the_image_and_hold_all_the_ink(small) -> None:
    for image, (x, y, w, h) in zip(small.x[:, 0], small.boxes, strict=True):
        assert x >= 0 and y >= 0 and x + w <= IMAGE_SIZE and y + h <= IMAGE_SIZE
        assert max(w, h) in range(SIZES[0] - 6, SIZES[0] + 1) or max(w, h) in range(SIZES[1] - 12, SIZES[1] + 1)
        outside = image.copy()
        outside[y : y + h, x : x + w] = 0
        assert outside.max() <= 32, "ink outside the bounding box"
        assert image[y : y + h, x : x + w].max() > 128


def test_both_sizes_occur(small) -> None:
    heights = small.boxes[:, 3]
    assert (heights <= SIZES[0]).any() and (heights > SIZES[0]).any()


def test_train_and_test_sources_are_disjoint_and_cover_all_digits() -> None:
    train, test = source_split()
    assert len(train) + len(test) == 1797 and not set(train) & set(test)
    from sklearn.datasets import load_digits

    target = load_digits().target
    assert set(target[test]) == set(range(10)) == set(target[train])


def _matches(image: np.ndarray, box: np.ndarray, split: str) -> bool:
    """Whether ``image`` holds, at ``box``, one of the upscaled glyphs of ``split``'s source pool."""
    from reference_models.data.hw2 import _glyphs, _ink_box

    x, y, w, h = (int(v) for v in box)
    for glyphs in _glyphs(split, SIZES).values():
        size = glyphs.shape[-1]
        for glyph in glyphs:
            bx, by, bw, bh = _ink_box(glyph)
            left, top = x - bx, y - by
            inside = 0 <= left <= IMAGE_SIZE - size and 0 <= top <= IMAGE_SIZE - size
            if (bw, bh) == (w, h) and inside and np.array_equal(image[top : top + size, left : left + size], glyph):
                return True
    return False


def test_each_image_comes_from_its_own_source_pool_only() -> None:
    for split, other in (("test", "train"), ("train", "test")):
        data = render(4, split=split, seed=11)
        for image, box in zip(data.x[:, 0], data.boxes, strict=True):
            assert _matches(image, box, split) and not _matches(image, box, other)


def test_same_seed_same_images_other_seed_other_images() -> None:
    a, b, c = render(10, seed=3), render(10, seed=3), render(10, seed=4)
    assert np.array_equal(a.x, b.x) and np.array_equal(a.boxes, b.boxes)
    assert not np.array_equal(a.x, c.x)


def test_written_folder_reads_back_identically(tmp_path: Path) -> None:
    written = generate_hw2(tmp_path, n_train=12, n_test=5, seed=0)
    rows = list(csv.reader(written["test"].open()))
    assert rows[0] == ["image", "class", "x", "y", "width", "height"] and rows[1][0] == "0000000.png" and len(rows) == 6
    train = load_hw2(tmp_path / "train")
    again = render(12, split="train", seed=0)
    assert (
        np.array_equal(train.x, again.x)
        and np.array_equal(train.y, again.y)
        and np.array_equal(train.boxes, again.boxes)
    )


def test_zip_with_a_nested_folder_and_an_unlabeled_test_folder(tmp_path: Path) -> None:
    generate_hw2(tmp_path / "d", n_train=4, n_test=3, seed=0)
    archive = tmp_path / "HW2_MNIST_train.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for f in sorted((tmp_path / "d" / "train").iterdir()):
            zf.write(f, f"HW2_MNIST_train/{f.name}")
    assert np.array_equal(load_hw2(archive).x, load_hw2(tmp_path / "d" / "train").x)
    (tmp_path / "d" / "test" / "labels.csv").unlink()
    unlabeled = load_hw2(tmp_path / "d" / "test")
    assert unlabeled.y is None and unlabeled.ids == ("0000000.png", "0000001.png", "0000002.png")


def test_reposition_keeps_the_digit_and_moves_its_box(small) -> None:
    moved, boxes = reposition(small.x[:5], small.boxes[:5], np.random.default_rng(0))
    for before, after, (x0, y0, w, h), (x1, y1, _, _) in zip(small.x[:5], moved, small.boxes[:5], boxes, strict=True):
        assert np.array_equal(before[0, y0 : y0 + h, x0 : x0 + w], after[0, y1 : y1 + h, x1 : x1 + w])
        assert 0 <= x1 <= IMAGE_SIZE - w and 0 <= y1 <= IMAGE_SIZE - h


def _folder(tmp_path: Path, labels: str, images: dict[str, tuple[int, int]]) -> Path:
    for name, size in images.items():
        Image.new("L", size).save(tmp_path / name)
    (tmp_path / "labels.csv").write_text(labels)
    return tmp_path


BAD = [
    (
        "header",
        "file,label\n0000000.png,1\n",
        {"0000000.png": (128, 128)},
        r"header is \['file', 'label'\]; expected it to start with 'image,class'",
    ),
    ("class", "image,class\n0000000.png,eight\n", {"0000000.png": (128, 128)}, r"line 2: expected a class from 0 to 9"),
    (
        "range",
        "image,class\n0000000.png,12\n",
        {"0000000.png": (128, 128)},
        r"line 2: class '12' is not a digit from 0 to 9",
    ),
    (
        "missing",
        "image,class\n0000001.png,1\n",
        {"0000000.png": (128, 128)},
        r"lists 1 image\(s\) that are not there, e.g. '0000001.png'",
    ),
    (
        "size",
        "image,class\n0000000.png,1\n",
        {"0000000.png": (64, 64)},
        r"0000000.png: the image is 64×64; HW2 images are 128×128",
    ),
]


@pytest.mark.parametrize(("labels", "images", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_folders(tmp_path: Path, labels: str, images: dict, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        load_hw2(_folder(tmp_path, labels, images))


def test_a_missing_folder_says_so(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no such folder or zip file"):
        load_hw2(tmp_path / "nope")
