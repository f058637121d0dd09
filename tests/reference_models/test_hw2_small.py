"""hw2-digits-small: its parameter count worked out by hand, in `derive params`, and what its weights score."""

from __future__ import annotations

import json

import torchinfo
from typer.testing import CliRunner

from derive.cli import app
from reference_models import registry
from reference_models.summary import param_table

# the working of hw2_digits_small.py's docstring, layer by layer (BatchNorm: γ and β per channel)
HAND_COUNT = (
    3 * 3 * 1 * 8
    + 2 * 8  # conv1 + bn1
    + 3 * 3 * 8
    + 8 * 12
    + 2 * 12  # depthwise2, pointwise2, bn2
    + 3 * 3 * 12
    + 12 * 20
    + 2 * 20  # depthwise3, pointwise3, bn3
    + 3 * 3 * 20
    + 20 * 20
    + 2 * 20  # depthwise4, pointwise4, bn4
    + (20 + 1) * 10  # fc
)


def test_the_hand_count_is_torchs_and_the_tables() -> None:
    model = registry.build("hw2-digits-small")
    assert HAND_COUNT == 1498 <= 1500
    assert sum(p.numel() for p in model.parameters()) == HAND_COUNT
    table = param_table("hw2-digits-small")
    assert table.total == HAND_COUNT and table.checked
    stats = torchinfo.summary(model, input_size=(1, 1, 128, 128), verbose=0)
    assert stats.total_params == stats.trainable_params == HAND_COUNT


def test_derive_params_shows_the_working() -> None:
    runner = CliRunner()
    text = runner.invoke(app, ["params", "hw2-digits-small"])
    assert text.exit_code == 0, text.output
    assert "Total parameters: 1,498 = 72 + 16 + 72 + 96 + 24 + 108 + 240 + 40 + 180 + 400 + 40 + 210" in text.output
    assert "sum(p.numel() for p in model.parameters()) = 1,498, equal to the total" in text.output
    doc = json.loads(runner.invoke(app, ["params", "hw2-digits-small", "--format", "json"]).output)
    rows = {row["name"]: row for row in doc["layers"]}
    assert rows["depthwise3"]["formula"] == "3·3·1·12 = 108" and rows["fc"]["formula"] == "(20 + 1)·10 = 210"
    assert doc["total"] == HAND_COUNT
