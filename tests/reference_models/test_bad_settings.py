"""Issue 20's bad settings: a --set the data does not fit, a diverging loss, impossible epochs (one line each)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from reference_models.cli import main
from reference_models.config import TrainConfig
from reference_models.data import Dataset
from reference_models.errors import SettingError, TrainingDiverged
from reference_models.train import check_fits, model_config_for, train_model


def _cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["reference_models", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _images(channels: int, size: int, classes: int = 10) -> Dataset:
    n = 4
    return Dataset(
        x=np.zeros((n, channels, size, size), np.uint8),
        y=np.arange(n) % classes,
        ids=tuple(map(str, range(n))),
        classes=tuple(str(c) for c in range(classes)),
    )


FITS = [
    (
        "hw2-pool",
        "hw2-digits",
        {"input_pool": 200},
        (1, 128),
        r"layer 'pool0' .*smaller than the pooling window 200×200",
    ),
    ("hw2-one-class", "hw2-digits", {"num_classes": 1}, (1, 128), r"num_classes=1 cannot learn this data's 10 classes"),
    (
        "cifar-size",
        "hw1-cifar",
        {"image_size": [8, 8]},
        (3, 32),
        r"layer 'fc1' .*input has 2,048 features, expected 128",
    ),
    ("cifar-grey", "hw1-cifar", {"in_channels": 1}, (3, 32), r"layer 'conv1' .*input has 3 channels, expected 1"),
]


@pytest.mark.parametrize(("name", "overrides", "shape", "message"), [f[1:] for f in FITS], ids=[f[0] for f in FITS])
def test_a_setting_the_data_does_not_fit_is_one_line_before_training(
    name: str, overrides: dict[str, Any], shape: tuple[int, int], message: str
) -> None:
    data = _images(*shape)
    with pytest.raises(SettingError, match=message) as info:
        check_fits(name, model_config_for(name, data, overrides), data, overrides)
    assert "\n" not in str(info.value) and "--set" in str(info.value)


def test_the_default_settings_fit_their_data() -> None:
    for name, shape in (("hw2-digits", (1, 128)), ("hw1-cifar", (3, 32)), ("hw1-cifar", (1, 32))):
        data = _images(*shape)
        check_fits(name, model_config_for(name, data), data)  # grey CIFAR-like data: in_channels follows it


def test_train_refuses_input_pool_200_with_exit_2_and_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, _ = _cli(
        capsys, monkeypatch, "make-data", "hw2", "--out", str(tmp_path / "d"), "--n-train", "12", "--n-test", "4"
    )
    assert code == 0
    out = tmp_path / "w.safetensors"
    args = ["train", "hw2-digits", "--data", str(tmp_path / "d"), "--epochs", "1", "--set", "input_pool=200"]
    code, _, err = _cli(capsys, monkeypatch, *args, "--out", str(out))
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "pooling window 200×200" in err and not out.exists()


def test_a_diverging_loss_stops_at_its_epoch_and_writes_no_weights(tmp_path: Path) -> None:
    out = tmp_path / "poly.safetensors"
    config = TrainConfig(epochs=6, batch_size=20, lr=3e-2, weight_decay=0.0)
    with pytest.raises(TrainingDiverged, match=r"became (nan|inf) at epoch [1-6] of 6 .*smaller learning rate"):
        train_model("hw1-regression", None, out, config, overrides={"kind": "polynomial", "degree": 40})
    assert not out.exists()


def test_a_diverging_loss_exits_1_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["train", "hw1-regression", "--set", "kind=polynomial", "--set", "degree=40", "--epochs", "6"]
    code, _, err = _cli(capsys, monkeypatch, *args, "--out", str(tmp_path / "p.safetensors"))
    errors = [line for line in err.splitlines() if not line.startswith("epoch ")]  # the log of the epochs before
    assert code == 1 and len(errors) == 1 and "--lr 0.003" in errors[0] and "Traceback" not in err, err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--epochs", "0", r"number of epochs \(--epochs\) must be 1 or more; got 0\."),
        ("--epochs", "-3", r"number of epochs \(--epochs\) must be 1 or more; got -3\."),
        ("--batch-size", "0", r"batch size \(--batch-size\) must be 1 or more; got 0\."),
    ],
)
def test_impossible_epochs_and_batch_size_are_one_line_exit_2(
    option: str,
    value: str,
    message: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, _, err = _cli(capsys, monkeypatch, "train", "hw1-circles", option, value, "--out", str(tmp_path / "w"))
    assert code == 2 and err.count("\n") == 1 and "╭" not in err, err
    assert __import__("re").search(message, err)


def test_the_training_columns_say_what_they_are(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from reference_models.config import History
    from reference_models.figures import history_figure

    args = ["train", "hw1-circles", "--epochs", "1", "--json", "--out", str(tmp_path / "c.safetensors")]
    code, out, _ = _cli(capsys, monkeypatch, *args)
    assert code == 0 and json.loads(out)["train_figures"] == "running mean over the epoch, train mode"
    code, out, _ = _cli(capsys, monkeypatch, *args[:-3], "--out", str(tmp_path / "c.safetensors"))
    assert "loss, top-1, top-5: running mean over the epoch, train mode; val: the epoch's final weights" in out
    history = History(epoch=[1], train_loss=[1.0], train_accuracy=[0.5], val_loss=[1.0], val_accuracy=[0.5])
    fig = history_figure(history, train_label="running mean over the epoch, train mode, augmented")
    legends = [t.get_text() for ax in fig.axes for t in ax.get_legend().get_texts()]
    assert "training accuracy (running mean over the epoch, train mode, augmented)" in legends
