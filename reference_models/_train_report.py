"""What ``train`` prints: the history table, the data notes, and for HW1's regression the held-out MSE
and f'(x) beside the least-squares polynomial's (and the generating function's, on the shipped sample).

Arithmetic on a :class:`TrainRun` only; the CLI echoes the strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from reference_models.config import History, train_figures_label
from reference_models.data import Dataset

__all__ = ["DERIVATIVE_POINTS", "TrainRun", "epoch_line", "regression_answers", "run_json", "run_text"]

DERIVATIVE_POINTS = (3.0, 0.1, -0.5)
"""Where HW1 2023 (一) asks for f'(x)."""


def _pct(v: float | None) -> str:
    return "" if v is None else f"{v:.2%}"


def _num(v: float | None) -> str:
    return "" if v is None else f"{v:.4f}"


def epoch_line(history: History, epochs: int) -> str:
    """One line for the latest epoch, for a log when stderr is not a terminal."""
    i = len(history.epoch) - 1
    parts = [f"epoch {history.epoch[i]}/{epochs}", f"loss {history.train_loss[i]:.4f}"]
    for label, values in (("top-1", history.train_accuracy), ("top-5", history.train_top5)):
        if i < len(values) and values[i] is not None:
            parts.append(f"{label} {values[i]:.2%}")
    if history.val_loss[i] is not None:
        parts.append(f"val loss {history.val_loss[i]:.4f}")
    for label, values in (("val top-1", history.val_accuracy), ("val top-5", history.val_top5)):
        if i < len(values) and values[i] is not None:
            parts.append(f"{label} {values[i]:.2%}")
    return ", ".join(parts)


def _history_table(h: History) -> list[str]:
    n = len(h.epoch)
    top5 = lambda values: values if len(values) == n else [None] * n  # noqa: E731  (older weights: no top-5)
    columns = [
        ("epoch", [str(e) for e in h.epoch]),
        ("loss", [_num(v) for v in h.train_loss]),
        ("top-1", [_pct(v) for v in h.train_accuracy]),
        ("top-5", [_pct(v) for v in top5(h.train_top5)]),
        ("val loss", [_num(v) for v in h.val_loss]),
        ("val top-1", [_pct(v) for v in h.val_accuracy]),
        ("val top-5", [_pct(v) for v in top5(h.val_top5)]),
    ]
    columns = [(title, cells) for title, cells in columns if any(cells)]
    widths = [max(len(title), *(len(c) for c in cells)) for title, cells in columns]
    lines = ["  ".join(f"{title:>{w}}" for (title, _), w in zip(columns, widths, strict=True))]
    every = max(1, n // 15)
    for row in range(n):
        if h.epoch[row] % every and row != n - 1:
            continue
        lines.append("  ".join(f"{cells[row]:>{w}}" for (_, cells), w in zip(columns, widths, strict=True)))
    return lines


def _is_sample(data: Path | None) -> bool:
    """Whether the run read the shipped sample (``--data`` absent, or a byte-for-byte copy as make-data writes)."""
    from reference_models.data.regression import SAMPLE_CSV

    if data is None:
        return True
    try:
        return Path(data).read_bytes() == SAMPLE_CSV.read_bytes()
    except OSError:
        return False


def regression_answers(run: TrainRun) -> dict[str, Any]:
    """HW1 2023 (一)'s numbers: training and held-out MSE, the coefficients, f'(x) of the model,
    of the least-squares polynomial on the same training pairs, and of the generating function on the shipped sample."""
    from reference_models.data.regression import SAMPLE_FUNCTION, sample_derivative, sample_function
    from reference_models.evaluate import derivatives_at

    h, train = run.history, run.train
    degree = int(getattr(run.model, "degree", 3))
    x, y = train.x[:, 0].astype(np.float64), train.y[:, 0].astype(np.float64)  # type: ignore[index]
    degree_fit = min(degree, len(x) - 1)
    fitted = np.polyfit(x, y, degree_fit)
    held_out = run.val is not train and run.val.ids != train.ids
    out: dict[str, Any] = {
        "train_mse": h.train_loss[-1],
        "val_mse": h.val_loss[-1] if held_out else None,
        "n_train": len(train),
        "n_val": len(run.val) if held_out else 0,
        "least_squares_degree": degree_fit,
        "least_squares_coefficients": [float(c) for c in fitted],
        "derivatives": [],
    }
    if hasattr(run.model, "coefficients"):
        out["coefficients"] = run.model.coefficients()
    sample = _is_sample(run.data)
    if sample:
        full_x = np.concatenate([train.x[:, 0], run.val.x[:, 0]]).astype(np.float64) if held_out else x
        full_y = np.concatenate([train.y[:, 0], run.val.y[:, 0]]).astype(np.float64) if held_out else y  # type: ignore[index]
        out["generating_function"] = SAMPLE_FUNCTION
        out["noise_mse"] = float(np.mean((sample_function(full_x) - full_y) ** 2))
    for point, d in derivatives_at(run.model, DERIVATIVE_POINTS):
        row = {"x": point, "model": d, "least_squares": float(np.polyval(np.polyder(fitted), point))}
        if sample:
            row["generating_function"] = float(sample_derivative(np.array(point, dtype=np.float64)))
        out["derivatives"].append(row)
    return out


def _regression_lines(run: TrainRun) -> list[str]:
    r = regression_answers(run)
    best = r["val_mse"] if r["val_mse"] is not None else r["train_mse"]
    verdict = "(< 0.1 as the handout asks)" if best < 0.1 else "(NOT below 0.1: train longer or change the model)"
    if r["val_mse"] is not None:
        lines = [
            f"MSE on the {r['n_train']} training pairs {r['train_mse']:.4f}; on the {r['n_val']} held-out pairs {r['val_mse']:.4f} {verdict}"
        ]
    else:
        lines = [f"MSE on the {r['n_train']} pairs {r['train_mse']:.4f} {verdict} (no pairs held out)"]
    if "noise_mse" in r:
        lines.append(
            f"the shipped sample's noise: its generating function {r['generating_function']} has MSE {r['noise_mse']:.4f} "
            f"on all {r['n_train'] + r['n_val']} pairs; a training MSE well below that means the model fits the noise "
            "(its f' then drifts from the function's)"
        )
    if "coefficients" in r:
        degree = len(r["coefficients"]) - 1
        lines.append("coefficients: " + ", ".join(f"w{degree - i} = {w:+.4f}" for i, w in enumerate(r["coefficients"])))
    kind = "polynomial" if "coefficients" in r else "mlp"
    header = [
        "x",
        f"f'(x), this model ({kind})",
        f"least-squares degree-{r['least_squares_degree']} polynomial, same pairs",
    ]
    if "generating_function" in r:
        header.append("generating function")
    rows = [
        [f"{d['x']:g}", f"{d['model']:+.4f}", f"{d['least_squares']:+.4f}"]
        + ([f"{d['generating_function']:+.4f}"] if "generating_function" in d else [])
        for d in r["derivatives"]
    ]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    lines.append("  ".join(f"{h:>{w}}" for h, w in zip(header, widths, strict=True)))
    lines += ["  ".join(f"{c:>{w}}" for c, w in zip(row, widths, strict=True)) for row in rows]
    return lines


def run_text(run: TrainRun) -> str:
    """Everything ``train`` prints after training."""
    from reference_models.evaluate import count_parameters

    lines = [f"device: {run.device}", *(f"note: {n}" for n in run.notes)]
    what = "pairs" if not run.train.classes else ("points" if run.train.x.ndim == 2 else "images")
    lines.append(f"trained on {len(run.train):,} {what}, validated on {len(run.val):,}")
    lines.append(f"loss, top-1, top-5: {train_figures_label(run.augmented)}; val: the epoch's final weights, eval mode")
    lines += _history_table(run.history)
    if not run.train.classes:
        lines += _regression_lines(run)
    lines.append(f"wrote {run.weights} ({count_parameters(run.model):,} parameters)")
    return "\n".join(lines)


def run_json(run: TrainRun) -> dict[str, Any]:
    """``train --json``: model, device, params, weights, n_train, n_val, notes, history, train_figures (what the
    training columns of the history are); ``regression`` for HW1's pairs."""
    from reference_models.evaluate import count_parameters

    out: dict[str, Any] = {
        "model": run.name,
        "device": run.device,
        "params": count_parameters(run.model),
        "weights": str(run.weights),
        "n_train": len(run.train),
        "n_val": len(run.val),
        "notes": list(run.notes),
        "history": run.history.to_dict(),
        "train_figures": train_figures_label(run.augmented),
    }
    if not run.train.classes:
        out["regression"] = regression_answers(run)
    return out


@dataclass
class TrainRun:
    """What :func:`train_model` produced."""

    model: Any
    history: History
    weights: Path
    train: Dataset
    val: Dataset
    name: str = ""
    data: Path | None = None
    augmented: bool = False
    device: str = "cpu"  # where it trained, e.g. "cuda:0 (NVIDIA A100)" or "cpu, 2 torchrun processes"
    main: bool = True  # False on the ranks of a torchrun job other than 0: they print and write nothing

    @property
    def notes(self) -> tuple[str, ...]:
        """What the data loaders said about the training and validation splits, once each."""
        return tuple(dict.fromkeys(self.train.notes + self.val.notes))

    def to_text(self) -> str:
        """The history table (loss, top-1, top-5), HW1's MSE, coefficients and f'(x), and where the weights went."""
        return run_text(self)

    def to_json(self) -> dict[str, Any]:
        """The JSON of ``train --json``: model, params, sizes, notes, history (and HW1's regression answers)."""
        return run_json(self)
