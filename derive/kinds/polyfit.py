"""``polyfit``: HW1 2023 (一)(b), the least-squares polynomial of (x, y) pairs and f'(x) (engine: :mod:`derive.polyfit`).

Options ``data``, ``degree``, ``at``. No values; the answers are ``w3`` … ``w0`` and ``f'(3.0)`` …
``answers.json`` carries the pairs themselves (:meth:`derive.polyfit.Polyfit.config`), so
grading needs neither the file nor the machine it was on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from derive.kinds.base import AnswerModel, Kind, Part, naming, unknown_keys
from derive.latex_env import environment, esc

if TYPE_CHECKING:
    import numpy as np

    from derive.polyfit import Polyfit

__all__ = ["PolyfitKind", "PolyfitModel", "polyfit_parts", "question_latex"]

_SAMPLE_LATEX = "$f(x) = 0.5x^3 - 2x^2 + x + 1$"  # reference_models.data.regression.SAMPLE_FUNCTION, typeset
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


class PolyfitKind(Kind):
    """``kind = "polyfit"``."""

    name = "polyfit"
    options = ("at", "data", "degree")  # derive.polyfit.OPTIONS
    asks = False
    example = """
kind = "polyfit"
degree = 3
at = [3.0, 0.1, -0.5]
"""

    def parse(self, options: dict[str, Any], *, where: str, source: str) -> Polyfit:
        from derive.polyfit import parse_polyfit

        with naming(where):
            return parse_polyfit(options, source)

    def config(self, problem: Polyfit) -> dict[str, Any]:
        return problem.config()

    def from_config(self, config: Mapping[str, Any], *, where: str) -> Polyfit:
        """The problem from :meth:`derive.polyfit.Polyfit.config`: its pairs ``x`` and ``y``, no file read."""
        from derive.polyfit import polyfit_from_config

        unknown_keys(config, self.options + ("x", "y"), where)
        with naming(where):
            return polyfit_from_config(dict(config))

    def solve(self, problem: Polyfit, wrt: tuple[str, ...], values: Any) -> tuple[Part, ...]:
        return polyfit_parts(problem)

    def question_latex(self, problem: Polyfit, wrt: tuple[str, ...]) -> str:
        return question_latex(problem)

    def model(self, problem: Polyfit, value: float) -> PolyfitModel:
        return PolyfitModel(problem)


class PolyfitModel(AnswerModel):
    """HW1 2023 (一)(b): ``w3`` … ``w0`` and ``f'(x)`` by least squares on the pairs answers.json carries."""

    kind = "polyfit"
    formulas = False

    def __init__(self, problem: Polyfit) -> None:
        import numpy as np

        super().__init__(problem)
        w = problem.coefficients()  # w[0] = w_m
        m = problem.degree
        self.numbers = {f"w{k}": float(w[m - k]) for k in range(m + 1)}
        slope = np.polyder(w)
        self.numbers.update({f"f'({p!r})": float(np.polyval(slope, p)) if m > 0 else 0.0 for p in problem.at})
        # reversed-coefficients: numpy.polyfit's array (w_m first) read as w_0 first, and f' from that reading
        backwards = w[::-1]
        self.reversed = {f"w{k}": float(w[k]) for k in range(m + 1)}
        self.reversed.update(
            {f"f'({p!r})": float(np.polyval(np.polyder(backwards), p)) if m > 0 else 0.0 for p in problem.at}
        )

    def right(self, values: Any, wrt: str) -> float:
        return self.numbers[wrt]

    def mistakes(self, values: Any, wrt: str, right: float) -> dict[str, list[float]]:
        return {"reversed-coefficients": [self.reversed[wrt]]}


def _poly_latex(terms: list[tuple[str, int]]) -> str:
    """``a x^3 + b x^2 + c x + d`` from (coefficient LaTeX, power) pairs."""
    out = []
    for coefficient, power in terms:
        x = "" if power == 0 else ("x" if power == 1 else f"x^{{{power}}}")
        out.append(f"{coefficient} {x}".strip())
    return " + ".join(out)


def _signed(value: float) -> str:
    from derive.steps import latex_number

    return latex_number(value) if value >= 0 else f"({latex_number(value)})"


def _data_table(problem: Polyfit, fitted: np.ndarray) -> str:
    import numpy as np

    from derive.steps import latex_number

    rows = [
        rf"{i} & {latex_number(x)} & {latex_number(y)} & {latex_number(float(np.polyval(fitted, x)))} \\"
        for i, (x, y) in enumerate(zip(problem.x, problem.y, strict=True), start=1)
    ]
    return "\n".join(
        [
            r"\begin{tabular}{rrrr}",
            r"\hline",
            r"$i$ & $x_i$ & $y_i$ & $\hat{y}_i$ \\",
            r"\hline",
            *rows,
            r"\hline",
            r"\end{tabular}",
        ]
    )


def polyfit_parts(problem: Polyfit) -> tuple[Part, ...]:
    """One :class:`~derive.kinds.base.Part` per coefficient (w_m first) and per point of f'(x), with the working."""
    import numpy as np

    from derive.steps import Derivation, Step, format_number, latex_number

    m, n = problem.degree, len(problem.x)
    w = problem.coefficients()  # w[0] = w_m
    fitted_mse = float(np.mean((np.polyval(w, np.array(problem.x)) - np.array(problem.y)) ** 2))
    symbols = [(f"w_{{{k}}}", k) for k in range(m, -1, -1)]
    model = Step(
        "model",
        f"\\hat{{y}} = {_poly_latex(symbols)}",
        "ŷ = " + " + ".join(f"w{k}·x^{k}" for k in range(m, -1, -1)),
        None,
        "Least squares",
    )
    normal = Step(
        "least squares",
        rf"\min_{{w}} \sum_{{i=1}}^{{{n}}} (y_i - \hat{{y}}_i)^2 \iff X^\top X\, w = X^\top y,\ X_{{ik}} = x_i^{{k}}",
        "min Σ (yᵢ − ŷᵢ)² ⇔ XᵀX w = Xᵀy",
        None,
        "Least squares",
    )
    verdict = "below 0.1, as the handout asks" if fitted_mse < 0.1 else "NOT below 0.1: raise the degree"
    notes = (
        f"numpy.polyfit (least squares, float64) on all {n} pairs; the fit's MSE is {format(fitted_mse, '.4g')}, {verdict}.",
    )
    parts = []
    solution = Step(
        "w",
        f"({', '.join(s for s, _ in symbols)}) = ({', '.join(latex_number(float(v)) for v in w)})",
        f"w = ({', '.join(format_number(float(v)) for v in w)})",
        None,
        "Least squares",
    )
    for i, (symbol, k) in enumerate(symbols):
        result = Step(
            f"w{k}",
            f"{symbol} = {latex_number(float(w[i]))}",
            f"w{k} = {format_number(float(w[i]))}",
            float(w[i]),
            "Coefficients",
        )
        steps = (model, normal, solution) if i == 0 else ()
        d = Derivation(
            title=f"Coefficient w{str(k).translate(_SUB)}", steps=steps, result=result, notes=notes if i == 0 else ()
        )
        parts.append(
            Part(name=f"w{k}", derivation=d, value=float(w[i]), table_latex=_data_table(problem, w) if i == 0 else "")
        )
    derivative = [(f"{k} w_{{{k}}}" if k > 1 else f"w_{{{k}}}", k - 1) for k in range(m, 0, -1)]
    general = Step("f'(x)", f"f'(x) = {_poly_latex(derivative) or '0'}", "f'(x) = Σ k·w_k·x^(k−1)", None, "Derivative")
    for point in problem.at:
        value = float(np.polyval(np.polyder(w), point)) if m > 0 else 0.0
        terms = [
            (
                f"{k} \\cdot {_signed(float(w[m - k]))} \\cdot {_signed(point)}^{{{k - 1}}}"
                if k > 2
                else f"2 \\cdot {_signed(float(w[m - 2]))} \\cdot {_signed(point)}"
                if k == 2
                else _signed(float(w[m - 1])),
                k,
            )
            for k in range(m, 0, -1)
        ]
        substituted = " + ".join(t for t, _ in terms) or "0"
        name = f"f'({point!r})"
        result = Step(
            name,
            f"f'({point!r}) = {substituted} = {latex_number(value)}",
            f"{name} = {format_number(value)}",
            value,
            "Derivative",
        )
        d = Derivation(title=f"f'({point!r})", steps=(general, result), result=result)
        parts.append(Part(name=name, derivation=d, value=value))
    return tuple(parts)


def question_latex(problem: Polyfit) -> str:
    """The question in the handout's words (``templates/key_polyfit_question.tex.j2``), the file name escaped."""
    from reference_models.data.regression import SAMPLE_CSV

    template = environment().get_template("key_polyfit_question.tex.j2")
    sample = _SAMPLE_LATEX if problem.path == SAMPLE_CSV else ""
    return template.render(
        n=len(problem.x),
        data=esc(problem.label),
        degree=problem.degree,
        sample=sample,
        points=", ".join(f"f'({p!r})" for p in problem.at),
    ).strip()
