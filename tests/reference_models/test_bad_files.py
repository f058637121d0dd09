"""Users' broken files, bad settings and bad output paths: one sentence each, never a traceback.

Each case of the tables names the mistake, builds it on disk, and gives the
message it must produce (from the library) and the exit code (from the CLI).
"""

from __future__ import annotations

import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from reference_models._files import check_output_file, check_output_folder
from reference_models.cli import main
from reference_models.data import load_for
from reference_models.data.hw2 import render, write_hw2
from reference_models.errors import ModelError
from reference_models.registry import build, make_config


def _hw2(tmp_path: Path) -> Path:
    folder = tmp_path / "test"
    write_hw2(render(3, split="test", seed=0), folder)
    return folder


def _truncated_png(tmp_path: Path) -> tuple[str, Path]:
    folder = _hw2(tmp_path)
    raw = (folder / "0000001.png").read_bytes()
    (folder / "0000001.png").write_bytes(raw[:100])
    return "hw2", folder


def _text_as_png(tmp_path: Path) -> tuple[str, Path]:
    folder = _hw2(tmp_path)
    (folder / "0000002.png").write_text("not an image")
    return "hw2", folder


def _latin1_labels(tmp_path: Path) -> tuple[str, Path]:
    folder = _hw2(tmp_path)
    (folder / "labels.csv").write_bytes(b"image,class\n0000000.png,3\n0000001.png,\xe9\n")
    return "hw2", folder


def _damaged_zip_member(tmp_path: Path) -> tuple[str, Path]:
    folder = _hw2(tmp_path)
    path = tmp_path / "test.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for file in sorted(folder.iterdir()):
            zf.write(file, f"test/{file.name}")
    raw = bytearray(path.read_bytes())
    at = raw.find(b"IDAT")  # inside the first PNG's stored bytes: its CRC no longer matches
    raw[at + 8] ^= 0xFF
    path.write_bytes(bytes(raw))
    return "hw2", path


def _latin1_regression(tmp_path: Path) -> tuple[str, Path]:
    path = tmp_path / "HW1-1.csv"
    path.write_bytes(b"x,y\n1,2\n3,4\xe9\n")
    return "regression", path


def _latin1_fer(tmp_path: Path) -> tuple[str, Path]:
    path = tmp_path / "fer2013.csv"
    path.write_bytes(b"emotion,pixels,Usage\n0," + b"1 " * 2303 + b"\xe9,PrivateTest\n")
    return "fer", path


def _huge_fer_pixel(tmp_path: Path) -> tuple[str, Path]:
    path = tmp_path / "fer2013.csv"
    path.write_text("emotion,pixels,Usage\n0," + "1 " * 2303 + "99999999999999999999999,PrivateTest\n")
    return "fer", path


BAD_FILES: list[tuple[str, Callable[[Path], tuple[str, Path]], str]] = [
    (
        "truncated-png",
        _truncated_png,
        r"test/0000001\.png: not a readable image \(image file is truncated\); replace the file",
    ),
    ("text-as-png", _text_as_png, r"test/0000002\.png: not a readable image \(not a PNG or any image format\)"),
    ("latin1-labels", _latin1_labels, r"labels\.csv, line 3: byte b'\\xe9' is not UTF-8; save the file as UTF-8"),
    ("damaged-zip", _damaged_zip_member, r"test\.zip: '0000000\.png' cannot be read from the zip \(Bad CRC-32"),
    ("latin1-regression", _latin1_regression, r"HW1-1\.csv, line 3: byte b'\\xe9' is not UTF-8"),
    ("latin1-fer", _latin1_fer, r"fer2013\.csv, line 2: byte b'\\xe9' is not UTF-8"),
    ("huge-fer-pixel", _huge_fer_pixel, r"fer2013\.csv, line 2: pixels must be integers from 0 to 255"),
]


@pytest.mark.parametrize(("make", "message"), [c[1:] for c in BAD_FILES], ids=[c[0] for c in BAD_FILES])
def test_a_broken_file_is_one_sentence(tmp_path: Path, make: Callable[[Path], tuple[str, Path]], message: str) -> None:
    task, path = make(tmp_path)
    with pytest.raises(ModelError, match=message):
        load_for(task, path, "test")


BAD_SETTINGS = [
    ("unknown", {"nope": 1}, r"has no setting 'nope'; its settings are: channels, input_pool, num_classes\.$"),
    ("typo", {"chanels": [8, 8, 8, 8]}, r"has no setting 'chanels'.* Did you mean 'channels'\?"),
    (
        "text-for-list",
        {"channels": "abc"},
        r"'channels' takes a list of whole numbers like \[8, 16, 24, 24\]; got 'abc'",
    ),
    (
        "floats-in-list",
        {"channels": [1.5, 2, 3, 4]},
        r"'channels' takes a list of whole numbers .*got \(1\.5, 2, 3, 4\)",
    ),
    ("bool-for-int", {"input_pool": True}, r"'input_pool' takes a whole number like 2; got True"),
]


@pytest.mark.parametrize(("overrides", "message"), [c[1:] for c in BAD_SETTINGS], ids=[c[0] for c in BAD_SETTINGS])
def test_a_bad_setting_is_refused_before_building(overrides: dict, message: str) -> None:
    with pytest.raises(ModelError, match=message):
        make_config("hw2-digits", **overrides)
    with pytest.raises(ModelError, match=message):
        build("hw2-digits", **overrides)


def test_good_settings_become_the_config_types() -> None:
    config = make_config("hw1-cifar", channels=[16, 32], dropout=0)
    assert config.channels == (16, 32) and isinstance(config.dropout, float) and config.hidden == (1024, 1024)


def test_output_paths_are_checked_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x")
    with pytest.raises(ModelError, match=r"--out '.*' is a folder; name a file inside it, e.g. '.*/w\.safetensors'"):
        check_output_file(tmp_path, example="w.safetensors")
    with pytest.raises(ModelError, match=r"a\.csv' is a file, not a folder"):
        check_output_file(tmp_path / "a.csv" / "w.safetensors")
    with pytest.raises(ModelError, match=r"a\.csv' is a file, not a folder; choose a folder path"):
        check_output_folder(tmp_path / "a.csv" / "figures")
    assert check_output_file(tmp_path / "new" / "deeper" / "w.safetensors").name == "w.safetensors"
    assert not (tmp_path / "new").exists()  # checking creates nothing


@pytest.mark.skipif(sys.platform != "linux", reason="/proc is Linux's")
def test_an_unwritable_folder_is_found_even_by_root() -> None:
    with pytest.raises(ModelError, match=r"the folder '/proc' is not writable"):
        check_output_file("/proc/w.safetensors")


def test_train_refuses_a_bad_out_and_bad_settings_before_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import reference_models.train as train

    monkeypatch.setattr(train, "fit", lambda *a, **k: pytest.fail("trained before checking"))
    with pytest.raises(ModelError, match="is a folder"):
        train.train_model("hw1-circles", None, tmp_path)
    with pytest.raises(ModelError, match="has no setting 'depth'"):
        train.train_model("hw1-circles", None, tmp_path / "w.safetensors", overrides={"depth": 3})
    with pytest.raises(
        ModelError, match=r"setting 'hidden' takes sizes of 1 or more like \[16, 16\]; got \[-4, 2\]\.$"
    ):
        train.train_model("hw1-circles", None, tmp_path / "w.safetensors", overrides={"hidden": [-4, 2]})
    with pytest.raises(ModelError, match=r"^hw1-regression: kind must be 'mlp' or 'polynomial'; got 'spline'\.$"):
        train.train_model("hw1-regression", None, tmp_path / "w.safetensors", overrides={"kind": "spline"})


def _cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str]:
    monkeypatch.setattr(sys, "argv", ["reference_models", *args])
    with pytest.raises(SystemExit) as exc:
        main()
    return int(exc.value.code or 0), capsys.readouterr().err


def test_cli_exit_codes_for_broken_files_and_bad_command_lines(tmp_path: Path, capsys, monkeypatch) -> None:
    _, folder = _truncated_png(tmp_path)
    code, err = _cli(
        capsys, monkeypatch, "predict", "hw2-digits", "--data", str(folder), "--out", str(tmp_path / "p.csv")
    )
    assert code == 1 and err.count("\n") == 1 and "not a readable image" in err and "Traceback" not in err
    code, err = _cli(capsys, monkeypatch, "predict", "hw2-digits", "--data", str(folder), "--out", str(tmp_path))
    assert (
        code == 2
        and err.count("\n") == 1
        and "is a folder; name a file inside it, e.g." in err
        and "HW2_prob1.csv" in err
    )
    code, err = _cli(
        capsys, monkeypatch, "train", "hw1-circles", "--set", "hiden=[4]", "--out", str(tmp_path / "w.safetensors")
    )
    assert code == 2 and err.count("\n") == 1 and "Did you mean 'hidden'?" in err
    code, err = _cli(
        capsys, monkeypatch, "make-data", "hw2", "--out", str(folder / "labels.csv"), "--n-train", "1", "--n-test", "1"
    )
    assert code == 2 and err.count("\n") == 1 and "is a file, not a folder" in err


@pytest.mark.parametrize("option", ["--epochs", "--batch-size"])
def test_cli_refuses_zero_epochs_or_batch_size_as_a_usage_error(
    option: str, tmp_path: Path, capsys, monkeypatch
) -> None:
    code, err = _cli(capsys, monkeypatch, "train", "hw1-circles", option, "0", "--out", str(tmp_path / "w.safetensors"))
    # issue 20: one line like the other usage errors (typer's 5-line box before)
    assert code == 2 and err.count("\n") == 1 and f"({option}) must be 1 or more; got 0." in err
