"""Training: a few steps lower the loss, seeds reproduce, weights round-trip, bad settings are refused."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from reference_models.data import Dataset
from reference_models.data.hw2 import render
from reference_models.errors import ModelError
from reference_models.registry import build
from reference_models.train import TrainConfig, distort, fit, load_model, measure, save_weights, train_model


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return render(96, split="train", seed=2)


def test_a_few_steps_lower_the_loss_of_the_hw2_model(digits: Dataset) -> None:
    torch.manual_seed(0)
    model = build("hw2-digits")
    before, _ = measure(model, digits)
    history = fit(model, digits, None, TrainConfig(epochs=3, batch_size=32, lr=1e-2, augment=True, distort=0.1))
    after, _ = measure(model, digits)
    assert after < before and history.epoch == [1, 2, 3] and history.val_loss == [None] * 3


def test_same_seed_same_weights(digits: Dataset) -> None:
    small = digits.subset(np.arange(32))
    states = []
    for _ in range(2):
        torch.manual_seed(7)  # fit seeds the data order and augmentation; the caller seeds the init
        model = build("hw2-digits")
        fit(model, small, None, TrainConfig(epochs=1, batch_size=16, augment=True, distort=0.2, seed=7))
        states.append(model.state_dict())
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])


def test_regression_and_circles_train_to_the_handouts_targets(tmp_path: Path) -> None:
    poly = train_model("hw1-regression", None, tmp_path / "poly.safetensors", overrides={"kind": "polynomial"})
    assert poly.history.train_loss[-1] < 0.1
    w3, w2, w1, w0 = poly.model.coefficients()
    assert (w3, w2, w1, w0) == pytest.approx((0.5, -2, 1, 1), abs=0.15)  # the sample's known cubic
    circles = train_model("hw1-circles", None, tmp_path / "c.safetensors")
    assert circles.history.val_accuracy[-1] >= 0.9


def test_weights_round_trip_with_config_and_history(tmp_path: Path) -> None:
    run = train_model(
        "hw1-regression",
        None,
        tmp_path / "p.safetensors",
        TrainConfig(epochs=5, batch_size=20),
        overrides={"kind": "polynomial", "degree": 2},
    )
    model, metadata = load_model("hw1-regression", run.weights)
    assert model.degree == 2 and torch.equal(model.weight, run.model.weight)
    assert '"train_loss"' in metadata["history"]


def test_distort_keeps_shape_and_identity_at_zero_strength(digits: Dataset) -> None:
    x = torch.from_numpy(digits.x[:4]).float() / 255
    same = distort(x, digits.boxes[:4], 0.0, torch.Generator().manual_seed(0))
    assert same.shape == x.shape and torch.allclose(same, x, atol=1e-5)


BAD = [
    ("unlabeled", lambda d: Dataset(d.x, None, d.ids, d.classes), TrainConfig(), "has no labeled examples"),
    ("epochs", lambda d: d, TrainConfig(epochs=0), r"The number of epochs \(--epochs\) must be 1 or more; got 0\.$"),
    (
        "no-boxes",
        lambda d: Dataset(d.x, d.y, d.ids, d.classes),
        TrainConfig(augment=True),
        "no x,y,width,height columns",
    ),
]


@pytest.mark.parametrize(("change", "config", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_training_input(digits: Dataset, change, config: TrainConfig, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        fit(build("hw2-digits"), change(digits.subset(np.arange(4))), None, config)


def test_load_model_refuses_wrong_files(tmp_path: Path) -> None:
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ModelError, match="not a readable safetensors file"):
        load_model("hw2-digits", tmp_path / "junk.safetensors")
    save_weights(build("hw1-regression"), tmp_path / "r.safetensors", name="hw1-regression")
    with pytest.raises(ModelError, match="belong to model 'hw1-regression', not 'hw2-digits'"):
        load_model("hw2-digits", tmp_path / "r.safetensors")
    save_weights(build("hw1-regression"), tmp_path / "anon.safetensors", name="hw2-digits")
    with pytest.raises(ModelError, match="the tensors do not fit model 'hw2-digits'"):
        load_model("hw2-digits", tmp_path / "anon.safetensors")
    with pytest.raises(ModelError, match="has no setting 'depth'"):
        train_model("hw1-regression", None, tmp_path / "x.safetensors", TrainConfig(epochs=1), overrides={"depth": 3})


@pytest.mark.parametrize("name", ["hw1-cifar", "fer-cnn3"])
def test_cifar_and_fer_models_train_on_tiny_files(tmp_path: Path, name: str) -> None:
    import pickle

    rng = np.random.default_rng(0)
    if name == "hw1-cifar":
        for batch in ("data_batch_1", "test_batch"):
            payload = {
                b"data": rng.integers(0, 256, (10, 3072), dtype=np.uint8),
                b"labels": [i % 10 for i in range(10)],
            }
            (tmp_path / batch).write_bytes(pickle.dumps(payload))
        data = tmp_path
    else:
        rows = [
            f"{i % 7},{' '.join(map(str, rng.integers(0, 256, 2304)))},{'Training' if i < 10 else 'PublicTest'}"
            for i in range(12)
        ]
        data = tmp_path / "fer2013.csv"
        data.write_text("emotion,pixels,Usage\n" + "\n".join(rows) + "\n")
    run = train_model(name, data, tmp_path / "w.safetensors", TrainConfig(epochs=1, batch_size=5))
    assert len(run.history.epoch) == 1 and run.weights.exists()
    model, _ = load_model(name, run.weights)
    assert model is not None


def test_hw2_labels_without_boxes_train_without_augmentation(tmp_path: Path) -> None:
    from reference_models.data.hw2 import write_hw2

    write_hw2(render(20, split="train", seed=1), tmp_path / "train")
    labels = tmp_path / "train" / "labels.csv"
    labels.write_text("\n".join(",".join(line.split(",")[:2]) for line in labels.read_text().splitlines()) + "\n")
    run = train_model(
        "hw2-digits",
        tmp_path,
        tmp_path / "w.safetensors",
        TrainConfig(epochs=1, batch_size=8, augment=True, distort=0.2),
    )
    assert run.train.boxes is None and len(run.history.epoch) == 1


def test_same_seed_same_files_byte_for_byte(tmp_path: Path) -> None:
    """make-data and train with one seed write identical bytes (checksums a TA can compare), on CPU."""
    from reference_models.data.hw2 import generate_hw2

    config = TrainConfig(epochs=3, batch_size=35, lr=1e-2, weight_decay=0.0, seed=5)
    runs = [
        train_model("hw1-circles", None, tmp_path / f"{i}.safetensors", config).weights.read_bytes() for i in range(3)
    ]
    other = train_model(
        "hw1-circles", None, tmp_path / "other.safetensors", replace(config, seed=6)
    ).weights.read_bytes()
    assert runs[0] == runs[1] == runs[2] and other != runs[0]
    for i in range(2):
        generate_hw2(tmp_path / f"d{i}", n_train=5, n_test=3, seed=9)
    files = sorted(p.relative_to(tmp_path / "d0") for p in (tmp_path / "d0").rglob("*") if p.is_file())
    assert len(files) == 5 + 3 + 2
    assert all((tmp_path / "d0" / f).read_bytes() == (tmp_path / "d1" / f).read_bytes() for f in files)
    assert not list(tmp_path.glob("*.partial"))
