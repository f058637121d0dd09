"""--model: parameter counts from state_dict files, checked against sum(p.numel())."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import save_file, save_model
from torch import nn

from grading import UsageError
from grading.modelparams import count_parameters


class TiedNet(nn.Module):
    """A conv net with BatchNorm buffers and a weight shared by two layers."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.embed = nn.Linear(10, 10, bias=False)
        self.head = nn.Linear(10, 10)
        self.head.weight = self.embed.weight  # tied: counted once


@pytest.fixture(scope="module")
def model() -> nn.Module:
    torch.manual_seed(0)
    return TiedNet()


def oracle(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())  # parameters() yields a shared tensor once


@pytest.mark.parametrize("suffix", [".pt", ".pth"])
def test_state_dict_counts_like_parameters(tmp_path, model, suffix):
    path = tmp_path / f"model{suffix}"
    torch.save(model.state_dict(), path)
    assert oracle(model) == 4 * 9 + 4 + 4 + 4 + 100 + 10
    assert count_parameters(path) == oracle(model)


def test_checkpoint_dict_with_a_state_dict(tmp_path, model):
    path = tmp_path / "ckpt.pt"
    torch.save({"epoch": 7, "model_state_dict": model.state_dict(), "lr": 0.1}, path)
    assert count_parameters(path) == oracle(model)


def test_safetensors_counts_like_parameters(tmp_path, model):
    path = tmp_path / "model.safetensors"
    save_model(model, str(path))  # drops the duplicate name of the tied weight
    assert count_parameters(path) == oracle(model)
    plain = tmp_path / "plain.safetensors"
    save_file({"w": torch.zeros(3, 5), "b": torch.zeros(5)}, str(plain))
    assert count_parameters(plain) == 20


def test_pickled_model_is_refused_without_running_it(tmp_path, model):
    path = tmp_path / "whole.pt"
    torch.save(model, path)  # pickles the class: weights_only=True must refuse it
    with pytest.raises(UsageError, match=r"whole\.pt cannot be loaded safely with weights_only=True .*state_dict"):
        count_parameters(path)


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("missing.pt", None, r"the model file '.*missing\.pt' does not exist"),
        ("model.h5", b"x", r"model\.h5: --model expects a \.pt, \.pth or \.safetensors file, got '\.h5'"),
        ("junk.pt", b"not a torch file at all", r"junk\.pt (is not a readable torch file|cannot be loaded safely)"),
        ("short.safetensors", b"abc", r"short\.safetensors is not a valid \.safetensors file \(it has only 3 bytes\)"),
        ("huge.safetensors", (10**9).to_bytes(8, "little") + b"{}", r"its header claims 1000000000 bytes"),
        ("bad.safetensors", (4).to_bytes(8, "little") + b"{{{{", r"header is not the expected JSON"),
    ],
    ids=["missing", "extension", "junk-pt", "short-st", "huge-header", "bad-json"],
)
def test_bad_model_files(tmp_path, name, content, match):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(UsageError, match=match):
        count_parameters(path)


def test_dict_without_state_dict_is_explained(tmp_path):
    path = tmp_path / "odd.pt"
    torch.save({"epoch": 3, "accuracy": 0.9}, path)
    with pytest.raises(UsageError, match=r"odd\.pt holds a dict without a state_dict \(keys: 'epoch', 'accuracy'\)"):
        count_parameters(path)
