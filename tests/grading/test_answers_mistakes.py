"""Each named mistake, produced by an independent torch model of the mistake (not the engine under test).

The wrong number a student who makes the mistake would hand in comes from torch autograd in
float64 on a network built with the mistake; the grader must name that mistake whenever its
value differs (by more than the tolerance) from the right one and from every other mistake's,
and name none otherwise.
"""

from __future__ import annotations

import math

import pytest

from derive.problemset import Student, parse_problem_set
from derive.sheet import solve
from grading.answers.grade import DEFAULT_RTOL, grade_answer
from grading.answers.variants import Question, parse_variants

torch = pytest.importorskip("torch")
F = torch.nn.functional

STUDENTS = [Student(f"s{k}") for k in range(3)]


def questions(toml: str, student: Student, seed: int = 5) -> dict[str, Question]:
    sheet = solve(parse_problem_set(toml), seed=seed, student=student)
    (variant,) = parse_variants([sheet.to_dict()])
    return {q.name: q for q in variant.questions}


def close(a: float, b: float) -> bool:
    return abs(a - b) <= max(DEFAULT_RTOL * abs(b), 5e-5)


def expect(q: Question, value: float, mistake: str, others: dict[str, list[float]], right: float) -> str | None:
    distinct = (
        f"{value:.8g}" != "0"
        and not close(value, right)
        and not any(close(value, u) for m, vs in others.items() if m != mistake for u in vs)
    )
    got = grade_answer(q, f"{value:.8g}")
    assert got.verdict == ("correct" if close(value, right) else "wrong")
    assert got.misconception == (mistake if distinct else None), (mistake, value, right, others)
    if distinct:
        assert got.why and got.why.startswith(("At ", "Your answer"))
    return got.misconception


# ------------------------------------------------------------------ conv-gradient, in torch


def conv_torch(
    q: Question,
    wrt: str,
    *,
    half: bool | None = None,
    flip: bool | str = False,
    no_act: bool = False,
    only: tuple[int, int] | None = None,
    no_sigmoid: bool = False,
) -> float:
    p, v = q.model.problem, q.values
    t = lambda x: torch.tensor(x, dtype=torch.float64, requires_grad=True)  # noqa: E731
    a, w, dense, y = t(v["a"]), t(v["w"]), t(v["v"]), torch.tensor(v["y"], dtype=torch.float64)
    conv = lambda k: F.conv2d(a[None, None], k[None, None], stride=p.stride, padding=p.padding)[0, 0]  # noqa: E731
    z = conv(torch.flip(w, [0, 1]) if flip is True else w)
    if flip == "local":  # the forward pass right, ∂z/∂w and ∂z/∂a taken from the flipped kernel
        zf = conv(torch.flip(w, [0, 1]))
        z = z.detach() + zf - zf.detach()
    if only is not None:
        mask = torch.zeros_like(z)
        mask[only] = 1.0
        z = z.detach() + mask * (z - z.detach())
    act = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}[p.activation]
    h = z + (act(z) - z).detach() if no_act else act(z)
    yhat = (dense * h.reshape(-1)).sum()
    if p.loss == "mse":
        halved = p.half_mse if half is None else half
        loss = (yhat - y) ** 2 * (0.5 if halved else 1.0)
    else:
        prob = yhat + (torch.sigmoid(yhat) - yhat).detach() if no_sigmoid else torch.sigmoid(yhat)
        loss = F.binary_cross_entropy(prob, y)
    loss.backward()
    grad = {"a": a.grad, "w": w.grad}[wrt[0]]
    return float(grad[int(wrt[1]), int(wrt[2])])


CONV = {
    "hw2": 'title = "t"\n[[item]]\nkind = "conv-gradient"\nloss = "mse"\nwrt = ["w11", "a00", "w01", "a21"]\n',
    "hw1-2025": 'title = "t"\n[[item]]\nkind = "conv-gradient"\nloss = "bce"\nwrt = ["w00", "a21", "w12"]\n',
    "tanh-padded": 'title = "t"\n[[item]]\nkind = "conv-gradient"\nactivation = "tanh"\npadding = 1\ninput = [3, 3]\n'
    'kernel = [2, 2]\nwrt = ["w01", "a12", "a11"]\n',
    "half-mse": 'title = "t"\n[[item]]\nkind = "conv-gradient"\nhalf_mse = true\nwrt = ["w10", "a11"]\n',
}


def conv_mistakes_torch(q: Question) -> tuple[float, dict[str, list[float]]]:
    wrt, p = q.wrt, q.model.problem
    right = conv_torch(q, wrt)
    out: dict[str, list[float]] = {
        "sign": [-right],
        "flipped-kernel": [conv_torch(q, wrt, flip=True), conv_torch(q, wrt, flip="local")],
    }
    out["no-activation-derivative"] = [conv_torch(q, wrt, no_act=True)]
    if p.loss == "mse":
        out["factor-2"] = [conv_torch(q, wrt, half=not p.half_mse)]
    else:
        out["bce-missing-sigmoid-derivative"] = [conv_torch(q, wrt, no_sigmoid=True)]
    oh, ow = p.output
    terms = [conv_torch(q, wrt, only=(i, j)) for i in range(oh) for j in range(ow)]
    reached = [x for x in terms if x != 0.0]
    if len(reached) > 1:
        out["one-term"] = reached
    i, j = int(wrt[1]), int(wrt[2])
    rows, cols = p.input if wrt[0] == "a" else p.kernel
    if i != j and j < rows and i < cols:
        out["transposed-index"] = [conv_torch(q, f"{wrt[0]}{j}{i}")]
    return right, out


SEEN: set[str | None] = set()


@pytest.mark.parametrize("problem", sorted(CONV))
@pytest.mark.parametrize("student", STUDENTS, ids=lambda s: s.id)
def test_conv_mistakes_from_torch_models_are_named(problem, student):
    named = set()
    for q in questions(CONV[problem], student).values():
        right, mistakes = conv_mistakes_torch(q)
        assert grade_answer(q, repr(right)).verdict == "correct"
        for mistake, values in mistakes.items():
            for value in values:
                named.add(expect(q, value, mistake, mistakes, right))
    assert {"sign", "no-activation-derivative", "one-term"} <= named
    SEEN.update(named)


def test_each_conv_mistake_is_named_somewhere():
    if len(SEEN) < 2:  # run alone: grade the two handout problems once
        for problem in ("hw2", "hw1-2025", "tanh-padded"):
            test_conv_mistakes_from_torch_models_are_named(problem, STUDENTS[0])
    assert {
        "sign",
        "flipped-kernel",
        "no-activation-derivative",
        "factor-2",
        "one-term",
        "transposed-index",
        "bce-missing-sigmoid-derivative",
    } <= SEEN


# ------------------------------------------------------------------ softmax-ce and sigmoid + BCE

SOFTMAX = 'title = "t"\n[[item]]\nkind = "softmax-ce"\nclasses = 5\nwrt = ["z0", "z1", "z2", "z3", "z4"]\n'
SIGMOID = 'title = "t"\n[[item]]\nkind = "softmax-ce"\nactivation = "sigmoid"\nwrt = ["z"]\n'


def softmax_torch(q: Question) -> tuple[float, dict[str, list[float]]]:
    z = torch.tensor(q.values["z"], dtype=torch.float64, requires_grad=True)
    y = torch.tensor(q.values["y"], dtype=torch.float64)
    i = int(q.wrt[1:])
    (-(y * torch.log_softmax(z, 0)).sum()).backward()
    right = float(z.grad[i])
    yhat = torch.softmax(z.detach(), 0).requires_grad_(True)
    (-(y * torch.log(yhat)).sum()).backward()
    dl_dyhat = yhat.grad
    jac = torch.autograd.functional.jacobian(lambda t: torch.softmax(t, 0), z.detach())
    return right, {
        "sign": [-right],
        "missing-softmax-derivative": [float(dl_dyhat[i])],
        "one-term": [float(dl_dyhat[i] * jac[i, i])],
    }


@pytest.mark.parametrize("student", STUDENTS, ids=lambda s: s.id)
def test_softmax_mistakes_from_torch_are_named(student):
    names = set()
    for q in questions(SOFTMAX, student).values():
        right, mistakes = softmax_torch(q)
        assert grade_answer(q, f"{right:.8g}").verdict == "correct"
        for mistake, values in mistakes.items():
            names.add(expect(q, values[0], mistake, mistakes, right))
    # with a one-hot target, one-term (the k = i term only) gives the right answer for the target class and
    # 0 (as missing-softmax-derivative does) for the others: it is never told apart, so never named
    assert {"sign", "missing-softmax-derivative"} <= names and "one-term" not in names


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_sigmoid_bce_missing_derivative_from_torch(seed):
    q = questions(SIGMOID, Student("s"), seed=seed)["z"]
    z = torch.tensor(q.values["z"][0], dtype=torch.float64, requires_grad=True)
    y = torch.tensor(q.values["y"][0], dtype=torch.float64)
    F.binary_cross_entropy(torch.sigmoid(z), y).backward()
    p = torch.sigmoid(z.detach()).requires_grad_(True)
    F.binary_cross_entropy(p, y).backward()
    right, wrong = float(z.grad), float(p.grad)
    expect(q, wrong, "bce-missing-sigmoid-derivative", {"sign": [-right]}, right)


# ------------------------------------------------------------------ batchnorm

BATCHNORM = 'title = "t"\n[[item]]\nkind = "batchnorm"\nbatch = 4\nwrt = ["gamma", "beta", "var", "mu", "x0", "x2"]\n'


def bn_torch(values: dict, *, unbiased: bool = False, one_path: bool = False) -> dict[str, float]:
    f64 = torch.float64
    x = torch.tensor(values["x"], dtype=f64, requires_grad=True)
    gamma = torch.tensor(values["gamma"], dtype=f64, requires_grad=True)
    beta = torch.tensor(values["beta"], dtype=f64, requires_grad=True)
    mu = x.mean()
    mu.retain_grad()
    var = x.var(unbiased=unbiased)
    var.retain_grad()
    if one_path:
        y = gamma * (x - mu.detach()) / torch.sqrt(var.detach() + values["eps"]) + beta
    else:
        y = gamma * (x - mu) / torch.sqrt(var + values["eps"]) + beta
    (y * torch.tensor(values["dy"], dtype=f64)).sum().backward()
    out = {"gamma": float(gamma.grad), "beta": float(beta.grad)}
    if not one_path:
        out.update(var=float(var.grad), mu=float(mu.grad))
    out.update({f"x{i}": float(g) for i, g in enumerate(x.grad)})
    return out


@pytest.mark.parametrize("student", STUDENTS, ids=lambda s: s.id)
def test_batchnorm_mistakes_from_torch_are_named(student):
    names = set()
    for q in questions(BATCHNORM, student).values():
        right = bn_torch(q.values)[q.wrt]
        mistakes = {"sign": [-right], "unbiased-variance": [bn_torch(q.values, unbiased=True)[q.wrt]]}
        if q.wrt.startswith("x"):
            mistakes["one-path"] = [bn_torch(q.values, one_path=True)[q.wrt]]
        assert grade_answer(q, f"{right:.8g}").verdict == "correct"
        for mistake, values in mistakes.items():
            names.add(expect(q, values[0], mistake, mistakes, right))
    assert {"sign", "unbiased-variance", "one-path"} <= names


# ------------------------------------------------------------------ conv-shape

SHAPE = 'title = "t"\n[[item]]\nkind = "conv-shape"\ninput = {w}\nkernel = {k}\nstride = {s}\npadding = {p}\n'


@pytest.mark.parametrize(("w", "k", "s", "p"), [(48, 7, 2, 3), (32, 3, 1, 1), (28, 5, 2, 2), (224, 7, 2, 3)])
def test_shape_mistakes_against_torch(w, k, s, p):
    q = questions(SHAPE.format(w=w, k=k, s=s, p=p), Student("s"))["out"]
    right = torch.nn.Conv2d(3, 8, k, stride=s, padding=p)(torch.zeros(1, 3, w, w)).shape[-1]
    mistakes = {  # the FER report's formula, and the other slips, written out here
        "shape-plus-one-twice": [math.floor((w + 2 * p - k + 1) / s) + 1],
        "shape-no-padding": [math.floor((w - k) / s) + 1],
        "shape-padding-once": [math.floor((w + p - k) / s) + 1],
        "shape-no-plus-one": [math.floor((w + 2 * p - k) / s)],
        "shape-no-stride": [w + 2 * p - k + 1],
    }
    assert grade_answer(q, str(right)).verdict == "correct"
    assert grade_answer(q, f"{right}.0").verdict == "correct"
    for mistake, (value,) in mistakes.items():
        got = grade_answer(q, str(value))
        clash = value == right or any(v == value for m, (v,) in mistakes.items() if m != mistake)
        assert got.misconception == (None if clash else mistake), (mistake, value, right)


def test_fer_report_shape_error_is_named():
    q = questions(SHAPE.format(w=48, k=7, s=2, p=3), Student("s"))["out"]
    got = grade_answer(q, "25")  # ⌊(48 + 6 − 7 + 1)/2⌋ + 1
    assert (got.verdict, got.misconception) == ("wrong", "shape-plus-one-twice")
    assert "FER report" in got.why


# ------------------------------------------------------------------ formulas diagnosed


@pytest.mark.parametrize(
    ("text", "mistake"),
    [
        ("(yhat - y)*v0*sigma(z00)*(1 - sigma(z00))*w00", "factor-2"),
        (r"\left(\hat{y}-y\right) v_{0}\,\sigma(z_{00})\left(1-\sigma(z_{00})\right) w_{00}", "factor-2"),
        ("2*(y - yhat)*v0*h00*(1 - h00)*w00", "sign"),
        ("2(ŷ − y)·v₀·w₀₀", "no-activation-derivative"),
        (r"2\left(\hat{y}-y\right) v_{0} h_{00}(1-h_{00}) w_{22}", "flipped-kernel"),
        ("2*(yhat - y)*v0*h00*(1 - h00)*w00", None),
    ],
    ids=["factor-2", "factor-2-latex", "sign", "no-act-unicode", "flipped-latex", "right"],
)
def test_formula_mistakes_a00(text, mistake):
    q = questions(CONV["hw2"], STUDENTS[0])["a00"]
    got = grade_answer(q, text)
    assert got.verdict == ("correct" if mistake is None else "wrong")
    assert got.misconception == mistake


def test_formula_one_term_and_bce():
    q = questions(CONV["hw2"], STUDENTS[1])["w11"]
    assert grade_answer(q, "2*(yhat - y)*v1*h01*(1 - h01)*a12").misconception == "one-term"
    q = questions(CONV["hw1-2025"], STUDENTS[1])["a21"]
    terms = "v0*h00*(1 - h00)*w21 + v1*h01*(1 - h01)*w20 + v2*h10*(1 - h10)*w11 + v3*h11*(1 - h11)*w10"
    assert grade_answer(q, f"(p - y)*({terms})").verdict == "correct"
    assert grade_answer(q, f"(sigma(yhat) - y)*({terms})").verdict == "correct"
    latex = terms.replace("*", " ")
    got = grade_answer(q, rf"\left(-\frac{{y}}{{p}}+\frac{{1-y}}{{1-p}}\right) \left({latex}\right)")
    assert got.misconception == "bce-missing-sigmoid-derivative"


@pytest.mark.parametrize("problem", sorted(CONV))
def test_fast_chain_rule_equals_the_engine_and_torch(problem):
    for q in questions(CONV[problem], STUDENTS[0]).values():
        for seed in range(3):
            point = q.model.check(q.model.random_values(seed))
            fast = q.model.right_at(point, q.wrt)
            assert fast == pytest.approx(q.model.right(point, q.wrt), rel=1e-12, abs=1e-15)
            assert fast == pytest.approx(
                conv_torch(Question(**{**q.__dict__, "values": point}), q.wrt), rel=1e-9, abs=1e-12
            )
