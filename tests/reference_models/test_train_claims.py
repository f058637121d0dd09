"""Each model trains what it says; a seed or --data means what it says; HW1 2023's asks are in the output.

Tiny data and a few epochs: these check the wiring and the numbers against
independent oracles (scikit-learn, numpy.polynomial, sum(p.numel())), not accuracy.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from reference_models.cli import main
from reference_models.data import Dataset, load_for
from reference_models.data.circles import make_circles_split
from reference_models.data.hw2 import render
from reference_models.errors import ModelError
from reference_models.evaluate import count_parameters, evaluate
from reference_models.registry import build, check_buildable
from reference_models.train import TrainConfig, fit, load_model, model_config_for, save_weights, seed_of, train_model

FER_WIDE_RESNET = 66_848_583  # = 68,883,240 − (2048 + 1)·1000 + (2048 + 1)·7, the registry's and the report's count


def _cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["reference_models", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


# ---------------------------------------------------------------- fer-wide-resnet50-2: one model, one count


def _grey_faces(n: int = 4) -> Dataset:
    return Dataset(
        x=np.zeros((n, 1, 48, 48), np.uint8),
        y=np.arange(n) % 7,
        ids=tuple(map(str, range(n))),
        classes=("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"),
    )


def test_fer_wide_resnet_trains_the_3_channel_model_that_derive_params_counts() -> None:
    from reference_models.summary import param_table

    config = model_config_for("fer-wide-resnet50-2", _grey_faces())
    assert config.in_channels == 3  # the report's Conv2d(3, 64, ...), not refitted to the grey data
    with torch.device("meta"):
        model = build("fer-wide-resnet50-2", **{"in_channels": config.in_channels})
        out = model(torch.zeros(2, 1, 48, 48, device="meta"))  # grey faces go in as they are
    assert tuple(out.shape) == (2, 7) and tuple(model.conv1.weight.shape) == (64, 3, 7, 7)
    assert sum(p.numel() for p in model.parameters()) == param_table("fer-wide-resnet50-2").total == FER_WIDE_RESNET
    assert model_config_for("fer-cnn4", _grey_faces()).in_channels == 1  # the other FER models stay grey


def test_train_prints_the_documented_fer_wide_resnet_count(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import reference_models.models.fer_wide_resnet50_2 as module
    import reference_models.registry as registry
    import reference_models.train as train
    from reference_models.train import History

    rng = np.random.default_rng(0)
    rows = ["emotion,pixels"] + [f"{i % 7},{' '.join(map(str, rng.integers(0, 256, 2304)))}" for i in range(6)]
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    monkeypatch.setattr(train, "fit", lambda *a, **k: History())  # the count, not an hour of training
    monkeypatch.setattr(train, "save_weights", lambda model, path, **k: path)
    run = train_model("fer-wide-resnet50-2", tmp_path / "train.csv", tmp_path / "w.safetensors")
    assert count_parameters(run.model) == FER_WIDE_RESNET and f"({FER_WIDE_RESNET:,} parameters)" in run.to_text()
    assert "66,848,583" in registry.MODELS["fer-wide-resnet50-2"].description and "66,848,583" in (module.__doc__ or "")
    assert "has no Usage column" in run.to_text()  # and the split it made is said


def test_fer_wide_resnet_repeats_grey_exactly() -> None:
    torch.manual_seed(0)
    model = build("fer-wide-resnet50-2", layers=[1, 1, 1, 1], width_per_group=64).eval()
    grey = torch.rand(2, 1, 48, 48)
    assert torch.equal(model(grey), model(grey.repeat(1, 3, 1, 1)))


# ---------------------------------------------------------------- circles: the seed of the weights is the seed of the data


def test_evaluate_and_figures_use_the_seed_the_weights_were_trained_with(tmp_path: Path, capsys, monkeypatch) -> None:
    import reference_models.figures as figures

    code, out, err = _cli(
        capsys,
        monkeypatch,
        "train",
        "hw1-circles",
        "--seed",
        "5",
        "--epochs",
        "3",
        "--out",
        str(tmp_path / "w.safetensors"),
    )
    assert code == 0, err
    net, metadata = load_model("hw1-circles", tmp_path / "w.safetensors")
    assert seed_of(metadata) == 5
    expected = evaluate(net, make_circles_split(5)[1], name="hw1-circles")
    code, out, _ = _cli(
        capsys, monkeypatch, "evaluate", "hw1-circles", "--weights", str(tmp_path / "w.safetensors"), "--json"
    )
    assert (
        code == 0
        and json.loads(out)["top1"] == expected.top1
        and json.loads(out)["loss"] == pytest.approx(expected.loss)
    )
    drawn = {}
    monkeypatch.setattr(
        figures, "plot_decision_boundary", lambda model, train, test, path: drawn.update(train=train, test=test) or path
    )
    code, out, _ = _cli(
        capsys,
        monkeypatch,
        "figures",
        "hw1-circles",
        "--weights",
        str(tmp_path / "w.safetensors"),
        "--out",
        str(tmp_path / "f"),
    )
    assert code == 0 and drawn["train"].ids == make_circles_split(5)[0].ids
    assert np.array_equal(drawn["train"].x, make_circles_split(5)[0].x)


def test_train_reads_the_circles_csv_and_refuses_garbage(tmp_path: Path, capsys, monkeypatch) -> None:
    code, out, err = _cli(capsys, monkeypatch, "make-data", "circles", "--out", str(tmp_path), "--seed", "7")
    code, out, err = _cli(
        capsys,
        monkeypatch,
        "train",
        "hw1-circles",
        "--data",
        str(tmp_path / "circles.csv"),
        "--epochs",
        "2",
        "--out",
        str(tmp_path / "w.safetensors"),
        "--json",
    )
    assert code == 0 and json.loads(out)["n_train"] == 70 and json.loads(out)["n_val"] == 30
    (tmp_path / "garbage.csv").write_text("this is not,a circles file\n")
    code, out, err = _cli(
        capsys,
        monkeypatch,
        "train",
        "hw1-circles",
        "--data",
        str(tmp_path / "garbage.csv"),
        "--out",
        str(tmp_path / "g.safetensors"),
    )
    assert (
        code == 1
        and err.count("\n") == 1
        and "expected the columns x1,x2,label" in err
        and not (tmp_path / "g.safetensors").exists()
    )


# ---------------------------------------------------------------- settings that cannot build: usage errors, before any data


USAGE = [
    (
        "spline",
        ["train", "hw1-regression", "--set", "kind=spline"],
        "file",
        r"hw1-regression: kind must be 'mlp' or 'polynomial'; got 'spline'\.",
    ),
    (
        "negative",
        ["train", "hw2-digits", "--set", "channels=[-1,8,8,8]"],
        "dir",
        r"setting 'channels' takes sizes of 1 or more like \[8, 16, 24, 24\]; got \[-1, 8, 8, 8\]\.",
    ),
    (
        "lr",
        ["train", "hw1-cifar", "--lr", "-1"],
        "dir",
        r"The learning rate \(--lr\) must be a number above 0, such as 0\.001; got -1\.0\.$",
    ),
    (
        "threads",
        ["train", "hw1-circles", "--threads", "0"],
        None,
        r"The number of threads \(--threads\) must be 1 or more; got 0\.$",
    ),
]


@pytest.mark.parametrize(("args", "data", "message"), [u[1:] for u in USAGE], ids=[u[0] for u in USAGE])
def test_settings_that_cannot_work_exit_2_before_any_data_is_read(
    args, data, message, tmp_path: Path, capsys, monkeypatch
) -> None:
    import reference_models.data as data_module

    monkeypatch.setattr(
        data_module, "load_for", lambda *a, **k: pytest.fail("read the data before checking the settings")
    )
    extra = []
    if data == "file":
        (tmp_path / "garbage.csv").write_text("garbage")
        extra = ["--data", str(tmp_path / "garbage.csv")]
    elif data == "dir":
        extra = ["--data", str(tmp_path)]  # no batches, no images: reading it would fail with exit 1
    code, out, err = _cli(capsys, monkeypatch, *args, *extra, "--out", str(tmp_path / "w.safetensors"))
    line = err.strip().removeprefix("reference_models: error: ")
    assert code == 2 and err.count("\n") == 1 and "TrainConfig" not in err and "Traceback" not in err
    assert __import__("re").search(message, line), line


BUILD = [
    (
        "cifar-zero",
        "hw1-cifar",
        {"channels": [0, 0]},
        r"setting 'channels' takes sizes of 1 or more like \[32, 64\]; got \[0, 0\]\.",
    ),
    (
        "digits-short",
        "hw2-digits",
        {"channels": [8, 8]},
        r"takes a list of 4 values like \[8, 16, 24, 24\], one per stage; got \[8, 8\] \(2 values\)\.",
    ),
    ("digits-negative", "hw2-digits", {"channels": [-1, 8, 8, 8]}, r"takes sizes of 1 or more"),
    (
        "dropout",
        "hw1-cifar",
        {"dropout": 1.5},
        r"setting 'dropout' is a probability from 0 to 1 \(default 0\.25\); got 1\.5\.",
    ),
    (
        "degree",
        "hw1-regression",
        {"kind": "polynomial", "degree": -1},
        r"setting 'degree' must be 0 or more \(default 3\); got -1\.",
    ),
]


@pytest.mark.parametrize(("name", "overrides", "message"), [b[1:] for b in BUILD], ids=[b[0] for b in BUILD])
def test_derive_params_refuses_impossible_settings_in_one_line(
    name: str, overrides: dict, message: str, capsys, monkeypatch
) -> None:
    from derive.cli import main as derive_main

    with pytest.raises(ModelError, match=message):
        check_buildable(name, **overrides)
    sets = [a for k, v in overrides.items() for a in ("--set", f"{k}={json.dumps(v)}")]
    monkeypatch.setattr(sys, "argv", ["derive", "params", name, *sets])
    with pytest.raises(SystemExit) as exc:
        derive_main()
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.count("\n") == 1 and err.startswith("derive: error: ") and "Traceback" not in err


def test_derive_params_a_setting_that_breaks_the_forward_pass_is_one_line(capsys, monkeypatch) -> None:
    from derive.cli import main as derive_main

    monkeypatch.setattr(sys, "argv", ["derive", "params", "hw1-cifar", "--set", "image_size=[2,2]"])
    with pytest.raises(SystemExit) as exc:
        derive_main()
    err = capsys.readouterr().err
    assert (
        exc.value.code == 2 and err.count("\n") == 1 and "with image_size=[2, 2] cannot take an input of 3x32x32" in err
    )


# ---------------------------------------------------------------- same seed, same bytes, whatever the thread count


def test_the_same_seed_gives_the_same_weights_whatever_threads_torch_was_given(tmp_path: Path) -> None:
    data = render(48, split="train", seed=3)
    ambient = torch.get_num_threads()
    files = []
    try:
        for n in (1, 2):
            torch.set_num_threads(n)  # as OMP_NUM_THREADS=1 / 2 would
            torch.manual_seed(0)
            model = build("hw2-digits")
            fit(model, data, None, TrainConfig(epochs=1, batch_size=16, seed=0))
            assert torch.get_num_threads() == n  # restored after training
            files.append(save_weights(model, tmp_path / f"t{n}.safetensors", name="hw2-digits").read_bytes())
    finally:
        torch.set_num_threads(ambient)
    assert files[0] == files[1]


# ---------------------------------------------------------------- loss, top-1 and top-5 for training and validation


def test_history_has_loss_top1_and_top5_for_both_splits_against_sklearn() -> None:
    from sklearn.metrics import accuracy_score, log_loss, top_k_accuracy_score

    data = render(40, split="train", seed=2)
    train, val = data.subset(np.arange(30)), data.subset(np.arange(30, 40))
    torch.manual_seed(0)
    model = build("hw2-digits")
    history = fit(model, train, val, TrainConfig(epochs=2, batch_size=10))
    assert len(history.train_top5) == len(history.val_top5) == 2 and all(0 <= v <= 1 for v in history.train_top5)
    with torch.no_grad():
        probs = torch.softmax(model.eval()(torch.from_numpy(val.x).float() / 255).double(), 1).numpy()
    labels = list(range(10))
    assert history.val_accuracy[-1] == pytest.approx(accuracy_score(val.y, probs.argmax(1)))
    assert history.val_top5[-1] == pytest.approx(top_k_accuracy_score(val.y, probs, k=5, labels=labels))
    assert history.val_loss[-1] == pytest.approx(log_loss(val.y, probs, labels=labels), rel=1e-4)


def test_train_json_and_the_log_lines_carry_the_history(tmp_path: Path, capsys, monkeypatch) -> None:
    code, out, err = _cli(
        capsys, monkeypatch, "train", "hw1-circles", "--epochs", "2", "--out", str(tmp_path / "w.safetensors"), "--json"
    )
    doc = json.loads(out)
    assert code == 0 and doc["model"] == "hw1-circles" and doc["params"] == 354 and doc["n_train"] == 70
    assert set(doc["history"]) == {
        "epoch",
        "train_loss",
        "train_accuracy",
        "train_top5",
        "val_loss",
        "val_accuracy",
        "val_top5",
    }
    assert doc["history"]["val_top5"] == [None, None]  # 2 classes: top-5 would be 1 by construction
    # stderr is not a terminal here (as in a log file or CI): one progress line per epoch
    assert [line.split(",")[0] for line in err.splitlines()] == ["epoch 1/2", "epoch 2/2"] and "val top-1" in err


def test_evaluate_reports_loss_and_says_points_for_the_circles(tmp_path: Path) -> None:
    from sklearn.metrics import log_loss

    from reference_models.predict import predict_scores

    run = train_model("hw1-circles", None, tmp_path / "w.safetensors", TrainConfig(epochs=2, batch_size=70))
    test = load_for("circles", None, "test")
    result = evaluate(run.model, test, name="hw1-circles")
    assert result.loss == pytest.approx(log_loss(test.y, predict_scores(run.model, test), labels=[0, 1]))
    assert "hw1-circles on 30 points: loss" in result.to_text() and "images" not in result.to_text()


# ---------------------------------------------------------------- HW1 regression: held-out MSE, f' beside the oracles


def test_regression_reports_held_out_mse_and_f_prime_beside_least_squares_and_the_function(tmp_path: Path) -> None:
    from numpy.polynomial import Polynomial

    from reference_models._train_report import regression_answers

    run = train_model(
        "hw1-regression",
        None,
        tmp_path / "p.safetensors",
        TrainConfig(epochs=20, batch_size=20, lr=3e-2, weight_decay=0.0),
        overrides={"kind": "polynomial"},
    )
    r = regression_answers(run)
    assert (r["n_train"], r["n_val"]) == (15, 5) and r["val_mse"] == pytest.approx(run.history.val_loss[-1])
    x, y = run.train.x[:, 0].astype(float), run.train.y[:, 0].astype(float)
    oracle = Polynomial.fit(x, y, 3).deriv()  # an independent least-squares fit
    assert [d["x"] for d in r["derivatives"]] == [3.0, 0.1, -0.5]
    assert [d["least_squares"] for d in r["derivatives"]] == pytest.approx([oracle(v) for v in (3.0, 0.1, -0.5)])
    assert [d["generating_function"] for d in r["derivatives"]] == pytest.approx([2.5, 0.615, 3.375])
    text = run.to_text()
    assert (
        "on the 5 held-out pairs" in text and "f'(x), this model (polynomial)" in text and "generating function" in text
    )
    assert "the shipped sample's noise" in text


def test_regression_on_other_data_has_no_generating_function(tmp_path: Path) -> None:
    from reference_models._train_report import regression_answers

    xs = np.linspace(-1, 3, 12)
    (tmp_path / "hw1.csv").write_text("x,y\n" + "\n".join(f"{v},{2 * v + 1}" for v in xs) + "\n")
    run = train_model(
        "hw1-regression",
        tmp_path / "hw1.csv",
        tmp_path / "p.safetensors",
        TrainConfig(epochs=3, batch_size=20),
        overrides={"kind": "polynomial", "degree": 1},
    )
    r = regression_answers(run)
    assert "generating_function" not in r and all("generating_function" not in d for d in r["derivatives"])
    assert [d["least_squares"] for d in r["derivatives"]] == pytest.approx([2.0, 2.0, 2.0])
    assert "generating function" not in run.to_text()


# ---------------------------------------------------------------- small ones: ticks, layer names, old weights


def test_a_one_epoch_history_has_whole_number_ticks() -> None:
    from reference_models.figures import history_figure
    from reference_models.train import History

    fig = history_figure(History(epoch=[1], train_loss=[0.5], train_accuracy=[0.8], val_loss=[0.6], val_accuracy=[0.7]))
    assert [list(ax.get_xticks()) for ax in fig.axes] == [[1.0], [1.0]]


def test_the_filter_pattern_figure_names_the_hw2_layer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import reference_models.figures as figures

    titles = []
    monkeypatch.setattr(figures, "_save", lambda fig, path: titles.append(fig._suptitle.get_text()) or Path(path))
    figures.plot_filter_patterns(build("hw2-digits"), (1, 128, 128), tmp_path / "f.png", n_filters=2, steps=1)
    assert "(Conv2d 'pointwise4', 24→24, 1×1)" in titles[0]


def test_hw2_weights_saved_with_numbered_layers_still_load(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    torch.manual_seed(1)
    model = build("hw2-digits")
    numbered = {
        f"{list(model._modules).index(k.split('.')[0])}.{k.split('.', 1)[1]}": v for k, v in model.state_dict().items()
    }
    assert "15.weight" in numbered  # the key the old figure showed as Conv2d '15'
    save_file(numbered, str(tmp_path / "old.safetensors"), metadata={"model": "hw2-digits", "config": "{}"})
    loaded, _ = load_model("hw2-digits", tmp_path / "old.safetensors")
    assert all(
        torch.equal(a, b) for a, b in zip(loaded.state_dict().values(), model.state_dict().values(), strict=True)
    )


def test_the_literal_cifar_table_is_one_setting_away_with_the_same_count(capsys, monkeypatch) -> None:
    from derive.cli import main as derive_main

    assert check_buildable("hw1-cifar", dense_relu="false").dense_relu is False  # as a shell passes it to derive params
    literal = build("hw1-cifar", dense_relu=False)
    assert not any(isinstance(m, torch.nn.ReLU) for name, m in literal.named_modules() if name in ("relu3", "relu4"))
    assert isinstance(build("hw1-cifar").relu3, torch.nn.ReLU)
    assert count_parameters(literal) == count_parameters(build("hw1-cifar")) == 3_177_418
    monkeypatch.setattr(sys, "argv", ["derive", "params", "hw1-cifar", "--set", "dense_relu=false"])
    try:
        derive_main()
    except SystemExit as exc:
        assert not exc.code
    assert "3,177,418" in capsys.readouterr().out
