"""HW2 2024: one handwritten digit, in two sizes, anywhere in a 128×128 grayscale image.

The generator draws on scikit-learn's bundled ``load_digits`` (1,797 real
handwritten 8×8 digits, shipped inside scikit-learn, so nothing is
downloaded). The 1,797 sources are split ONCE, stratified and independently of
any seed, into 1,257 training sources and 540 test sources: whatever seeds two
generated sets use, a test digit was never seen in training.

On disk a split is a folder of PNG files plus ``labels.csv`` with the columns
``image,class,x,y,width,height`` (file names ``0000000.png``), as the handout's
``HW2_MNIST_train.zip``; :func:`load_hw2` reads that folder, or a zip of it.
"""

from __future__ import annotations

import csv
import functools
import io
import zipfile
from pathlib import Path, PurePosixPath

import numpy as np

from reference_models._files import decode_text, read_bytes
from reference_models.data._dataset import Dataset
from reference_models.errors import ModelError

__all__ = [
    "CLASSES",
    "IMAGE_SIZE",
    "LABEL_COLUMNS",
    "SIZES",
    "generate_hw2",
    "load_hw2",
    "render",
    "reposition",
    "source_split",
    "write_hw2",
]

IMAGE_SIZE = 128
SIZES = (28, 56)
CLASSES = tuple(str(d) for d in range(10))
LABEL_COLUMNS = ("image", "class", "x", "y", "width", "height")
TEST_FRACTION = 0.3
_INK = 32  # a pixel brighter than this (of 255) belongs to the digit's bounding box


@functools.lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.images, bunch.target


def source_split() -> tuple[np.ndarray, np.ndarray]:
    """Indices into ``load_digits()`` of the training and test sources (fixed, stratified, disjoint).

    >>> train, test = source_split()
    >>> len(train), len(test), len(set(train) & set(test))
    (1257, 540, 0)
    """
    target = _digits()[1]
    rng = np.random.default_rng(20240320)  # the handout's due date; never change it
    train: list[int] = []
    test: list[int] = []
    for digit in range(10):
        members = rng.permutation(np.flatnonzero(target == digit))
        n_test = int(round(TEST_FRACTION * len(members)))
        test.extend(members[:n_test])
        train.extend(members[n_test:])
    return np.sort(train), np.sort(test)


@functools.lru_cache(maxsize=4)
def _glyphs(split: str, sizes: tuple[int, ...]) -> dict[int, np.ndarray]:
    """Each source digit of ``split`` upscaled smoothly (bicubic) to each size, as uint8 (n, s, s)."""
    from PIL import Image

    sources = source_split()[0 if split == "train" else 1]
    images = _digits()[0][sources] * (255.0 / 16.0)
    out = {}
    for size in sizes:
        scaled = [
            np.asarray(Image.fromarray(img.astype(np.float32), mode="F").resize((size, size), Image.Resampling.BICUBIC))
            for img in images
        ]
        out[size] = np.clip(np.rint(np.stack(scaled)), 0, 255).astype(np.uint8)
    return out


def _ink_box(glyph: np.ndarray) -> tuple[int, int, int, int]:
    rows = np.flatnonzero((glyph > _INK).any(axis=1))
    cols = np.flatnonzero((glyph > _INK).any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


def render(n: int, *, split: str = "train", seed: int = 0, sizes: tuple[int, ...] = SIZES) -> Dataset:
    """Generate ``n`` HW2 images in memory, drawing on the ``split`` sources only.

    Args:
        n: Number of images.
        split: ``"train"`` or ``"test"``: which of the disjoint source pools to draw on.
        seed: Seeds the choice of digit, size and position; the same seed gives the same images.
        sizes: Side lengths in pixels of the upscaled 8×8 digit (the handout has two sizes).

    Returns:
        A :class:`Dataset` with ``x`` uint8 (n, 1, 128, 128), ``y`` the digit, ``boxes``
        the digit's ink bounding box ``x, y, width, height`` and ids ``0000000.png``...
    """
    if split not in ("train", "test"):
        raise ModelError(f"split must be 'train' or 'test', not {split!r}.")
    if n < 0:
        raise ModelError(f"The number of images must be 0 or more, not {n!r}.")
    if any(not 8 <= s <= IMAGE_SIZE for s in sizes):
        raise ModelError(f"Digit sizes must lie between 8 and {IMAGE_SIZE} pixels, not {sizes!r}.")
    sources = source_split()[0 if split == "train" else 1]
    target = _digits()[1][sources]
    glyphs = _glyphs(split, tuple(sizes))
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(sources), size=n)
    size_pick = rng.integers(0, len(sizes), size=n)
    x = np.zeros((n, 1, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    boxes = np.zeros((n, 4), dtype=np.int64)
    for i in range(n):
        size = sizes[size_pick[i]]
        glyph = glyphs[size][pick[i]]
        left, top = rng.integers(0, IMAGE_SIZE - size + 1, size=2)
        x[i, 0, top : top + size, left : left + size] = glyph
        bx, by, bw, bh = _ink_box(glyph)
        boxes[i] = (left + bx, top + by, bw, bh)
    return Dataset(
        x=x,
        y=target[pick].astype(np.int64),
        ids=tuple(f"{i:07d}.png" for i in range(n)),
        classes=CLASSES,
        boxes=boxes,
    )


def reposition(x: np.ndarray, boxes: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Move each image's digit to a new random place that keeps its box inside the image.

    The image is rolled, so any background (not only black) survives; this is
    the augmentation "regenerate the positions every epoch" for data read from disk.

    Returns:
        The moved images and their moved boxes.
    """
    out = np.empty_like(x)
    moved = boxes.copy()
    size_y, size_x = x.shape[-2:]
    for i, (bx, by, bw, bh) in enumerate(boxes):
        dx = rng.integers(-bx, size_x - bx - bw + 1)
        dy = rng.integers(-by, size_y - by - bh + 1)
        out[i] = np.roll(x[i], (int(dy), int(dx)), axis=(-2, -1))
        moved[i, :2] += (dx, dy)
    return out, moved


def write_hw2(dataset: Dataset, out: Path) -> Path:
    """Write ``dataset`` as PNG files plus ``labels.csv`` in the folder ``out``; return the CSV path."""
    from PIL import Image

    out.mkdir(parents=True, exist_ok=True)
    for name, image in zip(dataset.ids, dataset.x, strict=True):
        Image.fromarray(image[0], mode="L").save(out / name, optimize=False)
    labels = out / "labels.csv"
    with labels.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(LABEL_COLUMNS)
        assert dataset.y is not None and dataset.boxes is not None
        for name, label, box in zip(dataset.ids, dataset.y, dataset.boxes, strict=True):
            writer.writerow([name, int(label), *(int(v) for v in box)])
    return labels


def generate_hw2(out: Path, *, n_train: int, n_test: int, seed: int = 0) -> dict[str, Path]:
    """Write ``out/train/`` and ``out/test/`` (PNGs + ``labels.csv``) from disjoint sources.

    ``out/test/labels.csv`` is the answer key ``grade --key`` reads.

    Returns:
        ``{"train": path of train/labels.csv, "test": path of test/labels.csv}``.
    """
    written = {}
    for split, n, offset in (("train", n_train, 0), ("test", n_test, 1)):
        dataset = render(n, split=split, seed=seed * 2 + offset)
        written[split] = write_hw2(dataset, Path(out) / split)
    return written


class _Folder:
    """A folder or a zip, seen as ``name -> bytes`` below the folder holding ``labels.csv``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.zip: zipfile.ZipFile | None = None
        if path.is_file():
            if not zipfile.is_zipfile(path):
                raise ModelError(f"{path}: not a folder or a zip file; pass the HW2 folder or its zip.")
            try:
                self.zip = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise ModelError(f"{path}: a damaged zip file ({exc}); re-download or re-zip it.") from None
            names = [n for n in self.zip.namelist() if not n.startswith("__MACOSX/")]
            labels = sorted((n for n in names if PurePosixPath(n).name == "labels.csv"), key=len)
            pngs = [n for n in names if n.lower().endswith(".png")]
            root = (
                str(PurePosixPath(labels[0]).parent)
                if labels
                else (str(PurePosixPath(pngs[0]).parent) if pngs else ".")
            )
            self.prefix = "" if root == "." else root + "/"
            self.names = sorted(
                n[len(self.prefix) :] for n in names if n.startswith(self.prefix) and "/" not in n[len(self.prefix) :]
            )
        elif path.is_dir():
            self.names = sorted(p.name for p in path.iterdir() if p.is_file())
        else:
            raise ModelError(f"{path}: no such folder or zip file.")

    def read(self, name: str) -> bytes:
        if self.zip is not None:
            try:
                return self.zip.read(self.prefix + name)
            except (zipfile.BadZipFile, OSError, EOFError) as exc:  # a damaged member (bad CRC, truncated)
                raise ModelError(
                    f"{self.path}: {name!r} cannot be read from the zip ({exc}); re-download or re-zip it."
                ) from None
        return read_bytes(self.path / name)


def _read_labels(text: str, where: str) -> tuple[list[str], np.ndarray, np.ndarray | None, tuple[str, ...]]:
    """Names, classes, boxes (``None`` when a row has none) and notes of a labels.csv."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows:
        raise ModelError(f"{where}: the file is empty; expected the header {','.join(LABEL_COLUMNS)}.")
    header = [h.strip().lower() for h in rows[0]]
    if header[:2] != ["image", "class"]:
        raise ModelError(f"{where}: the header is {rows[0]!r}; expected it to start with 'image,class'.")
    has_box = header[2:6] == ["x", "y", "width", "height"]
    names, labels, boxes, boxless = [], [], [], []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        cells = [c.strip() for c in row[2:6]] + [""] * (4 - len(row[2:6]))
        try:
            label = int(row[1])
        except (ValueError, IndexError):
            raise ModelError(f"{where}, line {line}: expected a class from 0 to 9, got {row!r}.") from None
        if not 0 <= label <= 9:
            raise ModelError(f"{where}, line {line}: class {row[1]!r} is not a digit from 0 to 9.")
        box: list[int] = []
        if has_box and not any(cells):
            boxless.append(line)
        elif has_box:
            try:
                box = [int(float(v)) for v in cells]
            except ValueError:
                raise ModelError(
                    f"{where}, line {line}: x, y, width and height must be whole numbers (or all four empty), "
                    f"got {cells!r}."
                ) from None
        names.append(row[0].strip())
        labels.append(label)
        boxes.append(box)
    notes: tuple[str, ...] = ()
    if has_box and boxless:
        shown = ", ".join(map(str, boxless[:5])) + (", ..." if len(boxless) > 5 else "")
        notes = (
            f"{where}: {len(boxless)} row(s) have no box (line {shown}), so the boxes are not used: "
            "training does not move the digits.",
        )
        has_box = False
    return (
        names,
        np.array(labels, dtype=np.int64),
        np.array(boxes, dtype=np.int64).reshape(-1, 4) if has_box else None,
        notes,
    )


def _decode_png(raw: bytes, where: str) -> np.ndarray:
    """One 128×128 image as uint8 grey; :class:`ModelError` if it is not a readable image of that size."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(raw)) as image:
            size = image.size
            pixels = np.asarray(image.convert("L")) if size == (IMAGE_SIZE, IMAGE_SIZE) else None
    except (OSError, SyntaxError, ValueError) as exc:  # PIL: unidentified (OSError), truncated, bad chunks
        why = "not a PNG or any image format" if isinstance(exc, UnidentifiedImageError) else str(exc)
        raise ModelError(
            f"{where}: not a readable image ({why}); replace the file, or remove it and its line from labels.csv."
        ) from None
    if pixels is None:
        raise ModelError(f"{where}: the image is {size[0]}×{size[1]}; HW2 images are {IMAGE_SIZE}×{IMAGE_SIZE}.")
    return pixels


def load_hw2(path: Path | str) -> Dataset:
    """Read an HW2 split: a folder (or zip) of 128×128 PNGs with an optional ``labels.csv``.

    Without ``labels.csv`` (the handout's test zip) every PNG is read, sorted by
    name, and the dataset is unlabeled: enough for ``predict``, not for ``evaluate``.

    Raises:
        ModelError: the folder is missing, a listed image is missing, or an image is not 128×128.
    """
    path = Path(path)
    folder = _Folder(path)
    if "labels.csv" in folder.names:
        where = f"{path}/labels.csv"
        names, y, boxes, notes = _read_labels(decode_text(folder.read("labels.csv"), where), where)
        missing = sorted(set(names) - set(folder.names))
        if missing:
            raise ModelError(
                f"{path}: labels.csv lists {len(missing)} image(s) that are not there, e.g. {missing[0]!r}."
            )
    else:
        names, y, boxes, notes = [n for n in folder.names if n.lower().endswith(".png")], None, None, ()
    if not names:
        raise ModelError(f"{path}: no images found; expected PNG files such as 0000000.png, listed in labels.csv.")
    x = np.empty((len(names), 1, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    for i, name in enumerate(names):
        x[i, 0] = _decode_png(folder.read(name), f"{path}/{name}")
    return Dataset(x=x, y=y, ids=tuple(names), classes=CLASSES, boxes=boxes, notes=notes)
