"""Issue 21: --device, --amp, last.pt and --resume, and torchrun (gloo, 2 processes) against one process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from reference_models.checkpoint import load_checkpoint
from reference_models.cli import main
from reference_models.config import History, TrainConfig
from reference_models.data.hw2 import render
from reference_models.device import amp_mode, resolve_device
from reference_models.errors import SettingError, TrainingInterrupted
from reference_models.loop import fit
from reference_models.registry import build
from reference_models.train import DEFAULTS, train_model

ROOT = Path(__file__).resolve().parents[2]


def _cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "argv", ["reference_models", *args])
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _errors(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("reference_models:")]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
@pytest.mark.parametrize(
    ("device", "message"),
    [
        ("cuda", "this machine has no CUDA GPU"),
        ("cuda:1", "this machine has no CUDA GPU"),
        ("mps", "this machine has no Apple GPU (MPS)"),
        ("tpu", "--device takes auto, cpu, cuda, cuda:N or mps; got 'tpu'."),
    ],
)
def test_a_device_this_machine_lacks_is_one_line_exit_2(
    device: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    if device == "mps" and torch.backends.mps.is_available():
        pytest.skip("this machine has MPS")
    for command in (["train", "hw1-circles", "--out", str(tmp_path / "w.safetensors")], ["evaluate", "hw2-digits"]):
        code, out, err = _cli(capsys, monkeypatch, *command, "--device", device)
        assert code == 2 and _errors(err) == [f"reference_models: error: {_errors(err)[0].split(': ', 2)[2]}"]
        assert message in err and "Traceback" not in err and err.count("\n") == 1 and not out


def test_auto_names_the_device_on_the_first_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["train", "hw1-circles", "--epochs", "1", "--out", str(tmp_path / "w")]
    code, out, _ = _cli(capsys, monkeypatch, *args)
    assert code == 0 and out.splitlines()[0] == f"device: {resolve_device('auto').type}"
    code, out, _ = _cli(capsys, monkeypatch, *args, "--json")
    assert code == 0 and json.loads(out)["device"] == resolve_device("auto").type


def test_amp_where_the_device_has_none_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(torch.amp, "is_autocast_available", lambda device_type: False)
    args = ["train", "hw1-circles", "--amp", "--device", "cpu", "--out", str(tmp_path / "w.safetensors")]
    code, _, err = _cli(capsys, monkeypatch, *args)
    assert code == 2 and len(_errors(err)) == 1 and "--amp: torch has no mixed precision (autocast) on cpu" in err
    assert not (tmp_path / "w.safetensors").exists()


def test_amp_on_the_cpu_is_bf16_and_trains() -> None:
    assert amp_mode(torch.device("cpu")) == (torch.bfloat16, False)
    data = render(16, split="train", seed=0)
    config = TrainConfig(epochs=1, batch_size=8)
    plain, mixed = build("hw2-digits"), build("hw2-digits")
    mixed.load_state_dict(plain.state_dict())
    a = fit(plain, data, None, config)
    b = fit(mixed, data, None, config, amp=True)
    assert np.isfinite(b.train_loss[0]) and b.train_loss != a.train_loss  # bf16 rounds differently: autocast was on


def _stop_after(epoch: int) -> Callable[[History], None]:
    """An ``on_epoch`` that presses Ctrl-C once ``epoch`` is done (and its checkpoint written)."""

    def on_epoch(history: History) -> None:
        if history.epoch[-1] == epoch:
            raise KeyboardInterrupt

    return on_epoch


def test_resume_after_epoch_2_ends_with_the_same_weights_bit_for_bit(tmp_path: Path) -> None:
    data = render(24, split="train", seed=0)
    config = TrainConfig(epochs=4, batch_size=8, lr=6e-3, augment=True, distort=0.2, seed=3)

    def fresh() -> torch.nn.Module:
        torch.manual_seed(config.seed)
        return build("hw2-digits")

    whole = fresh()
    fit(whole, data, None, config, checkpoint=tmp_path / "a" / "last.pt")
    stopped = fresh()
    with pytest.raises(
        TrainingInterrupted,
        match=r"Interrupted in epoch 2 of 4; .*last\.pt holds the weights after epoch 2\. Continue with the same command and --resume",
    ):
        fit(stopped, data, None, config, checkpoint=tmp_path / "b" / "last.pt", on_epoch=_stop_after(2))
    state = load_checkpoint(tmp_path / "b" / "last.pt")
    assert state["epoch"] == 2 and not (tmp_path / "b" / "last.pt.partial").exists()
    resumed = fresh()
    history = fit(resumed, data, None, config, resume=state, checkpoint=tmp_path / "b" / "last.pt")
    assert history.epoch == [1, 2, 3, 4]
    for (name, a), b in zip(whole.state_dict().items(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    with pytest.raises(SettingError, match=r"trained with lr 0\.006 \(now 0\.001\)"):
        fit(fresh(), data, None, replace(config, lr=1e-3), resume=state)


def test_train_resume_on_the_command_line_writes_the_same_bytes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    whole, part = tmp_path / "a" / "w.safetensors", tmp_path / "b" / "w.safetensors"
    code, _, _ = _cli(capsys, monkeypatch, "train", "hw1-circles", "--epochs", "4", "--out", str(whole))
    assert code == 0
    with pytest.raises(TrainingInterrupted, match="after epoch 2"):
        train_model("hw1-circles", None, part, replace(DEFAULTS["circles"], epochs=4), on_epoch=_stop_after(2))
    assert not part.exists()
    args = ["train", "hw1-circles", "--epochs", "4", "--resume", str(part.parent / "last.pt"), "--out", str(part)]
    code, out, _ = _cli(capsys, monkeypatch, *args)
    assert code == 0 and out.count("\n    4  ") == 1
    assert whole.read_bytes() == part.read_bytes()


def test_torchrun_two_gloo_processes_give_one_process_weights(tmp_path: Path) -> None:
    from safetensors.torch import load_file

    torchrun = Path(sys.executable).with_name("torchrun")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    args = ["-m", "reference_models", "train", "hw1-circles", "--epochs", "2", "--batch-size", "10", "--device", "cpu"]
    done = subprocess.run(
        [str(torchrun), "--nproc-per-node", "2", *args, "--out", str(tmp_path / "ddp" / "w.safetensors")],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("trained on 70 points") == 1  # rank 0 alone prints
    assert done.stdout.startswith("device: cpu, 2 torchrun processes\n")
    one = train_model(
        "hw1-circles",
        None,
        tmp_path / "one" / "w.safetensors",
        TrainConfig(epochs=2, batch_size=10, lr=1e-2, weight_decay=0.0),
        device="cpu",
    )
    ddp, single = load_file(str(tmp_path / "ddp" / "w.safetensors")), load_file(str(one.weights))
    assert ddp.keys() == single.keys()
    for key in single:
        torch.testing.assert_close(ddp[key], single[key], rtol=1e-5, atol=1e-6)
