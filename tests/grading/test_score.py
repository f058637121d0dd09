"""grade_file / load_key: properties against scikit-learn, the key's contract, no label leaks."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import example, given, settings
from hypothesis import strategies as st

from grading import AnswerKey, GradeReport, UsageError, grade_bytes, grade_file, load_key
from grading.report import JSON_FIELDS


def make_case(n_classes: int, n: int, seed: int, drop: float):
    rng = np.random.default_rng(seed)
    ids = [f"{i:07d}.png" for i in rng.choice(10**6, n, replace=False)]
    y = rng.integers(0, n_classes, n)
    y[:n_classes] = np.arange(n_classes)
    key = AnswerKey.from_lists(ids, y.tolist(), classes=range(n_classes))
    scores = rng.integers(0, 5, (n, n_classes)) / 4
    keep = rng.random(n) > drop  # some rows missing
    pred = rng.integers(0, n_classes, n)
    order = rng.permutation(n)
    return key, ids, y, scores, pred, keep, order, n_classes


@st.composite
def key_and_submission(draw):
    n_classes = draw(st.integers(3, 10))
    n = draw(st.integers(n_classes, 80))
    return make_case(n_classes, n, draw(st.integers(0, 2**32 - 1)), draw(st.sampled_from([0.0, 0.2])))


def _csv(ids, pred, scores, keep, order, n_classes):
    head = "image,class," + ",".join(f"p{c}" for c in range(n_classes))
    lines = [f"{ids[i]},{pred[i]}," + ",".join(str(s) for s in scores[i]) for i in order if keep[i]]
    return ("\n".join([head, *lines]) + "\n").encode()


@settings(max_examples=40, deadline=None)
@given(key_and_submission())
# Found on CI: three ids, every row dropped, so the file is its header alone. That file is invalid
# by design ("header_only", see test_read_messy); the property assumed every file had a row.
@example(make_case(3, 3, 2771, 0.2))
def test_grade_matches_sklearn_and_properties_hold(case):
    key, ids, y, scores, pred, keep, order, n_classes = case
    report = grade_bytes(_csv(ids, pred, scores, keep, order, n_classes), key, name="s.csv", k=3)
    if not keep.any():  # a header and no rows: invalid, with the documented reason
        assert report.status == "invalid" and [e.code for e in report.errors] == ["header_only"]
        return
    assert report.status == "ok"
    labels = list(range(n_classes))
    y_pred = np.where(keep, pred, -1)  # a missing row is wrong
    assert report.top1 == pytest.approx(skm.accuracy_score(y, y_pred))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hits = [
            skm.top_k_accuracy_score([t], [s], k=3, labels=labels) if kp else 0.0 for t, s, kp in zip(y, scores, keep)
        ]
    assert report.top3 == pytest.approx(np.mean(hits))
    cm = np.array(report.to_dict()["confusion_matrix"])
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y[keep], pred[keep], labels=labels))
    assert np.trace(cm) == report.n_correct
    assert (
        0.0 <= report.top1 <= report.top3 <= 1.0 or report.top1 > report.top3
    )  # top-3 from scores may miss the class column
    np.testing.assert_allclose(report.recall, skm.recall_score(y, y_pred, labels=labels, average=None, zero_division=0))
    np.testing.assert_allclose(
        report.precision, skm.precision_score(y, y_pred, labels=labels, average=None, zero_division=0)
    )
    assert report.n_missing == int((~keep).sum()) and report.n_scored + report.n_missing == report.n_key


@settings(max_examples=40, deadline=None)
@given(key_and_submission())
def test_ranked_columns_top1_le_top3_le_1_and_order_invariance(case):
    key, ids, y, scores, pred, keep, order, n_classes = case
    ranked = np.argsort(scores, axis=1, kind="stable")[:, ::-1]

    def csv(rows):
        return (
            "image,class,class_2,class_3\n"
            + "".join(f"{ids[i]},{ranked[i, 0]},{ranked[i, 1]},{ranked[i, 2]}\n" for i in rows)
        ).encode()

    rows = [i for i in order if keep[i]]
    a = grade_bytes(csv(rows), key)
    b = grade_bytes(csv(sorted(rows)), key)
    assert 0.0 <= a.top1 <= a.top3 <= 1.0
    assert a.to_dict() == b.to_dict()


def test_json_fields_are_exactly_the_contract(tmp_path):
    key = AnswerKey.from_lists(["a.png", "b.png"], [0, 1], classes=[0, 1, 2])
    ok = grade_bytes(b"image,class\na.png,0\nb.png,2\n", key, params=1000)
    bad = grade_bytes(b"", key)
    for report in (ok, bad):
        d = report.to_dict()
        assert tuple(d) == JSON_FIELDS
        json.dumps(d)
    assert ok.to_dict()["top1"] == 0.5 and ok.to_dict()["top1_per_param"] == 0.5 / 1000
    assert bad.to_dict()["status"] == "invalid" and bad.to_dict()["top1"] is None
    assert bad.to_dict()["errors"] == [
        {
            "code": "empty",
            "message": "submission.csv is empty; the student submitted a file with no rows.",
            "line": None,
        }
    ]


ANIMALS = ["aardvark", "bonobo", "capybara", "dugong", "echidna"]


@pytest.mark.parametrize(
    "text",
    [
        "image,class\n{ids[0]},zebra\n{ids[1]},{wrong1}\n{ids[1]},{wrong1}\nnope.png,{wrong1}\n",
        "image,class\n{ids[0]},{wrong0}\n{ids[0]},{wrong1}\n",
        "image\n{ids[0]}\n",
        "image,class,class_2\n{ids[0]},{wrong0},zebra\n",
        "image,class\n",
    ],
    ids=["bad-label-dup-unknown-missing", "conflict", "no-label", "two-ranked", "header-only"],
)
def test_no_message_reveals_a_key_label(text):
    ids = [f"img{i}.png" for i in range(5)]
    key = AnswerKey.from_lists(ids, ANIMALS, name="key.csv")
    wrong = {f"wrong{i}": ANIMALS[(i + 1) % 5] for i in range(5)}
    report = grade_bytes(text.format(ids=ids, **wrong).encode(), key, name="s.csv")
    messages = [i.message for i in report.warnings + report.errors]
    assert messages
    for message in messages:
        for row, true_label in enumerate(ANIMALS):
            if ids[row] in message:  # students never wrote the true label of these rows
                assert true_label not in message, message
        assert "aardvark" not in message, message  # the only row mentioned by line number is img0


def test_usage_split_gives_public_and_private_scores(tmp_path):
    key_csv = tmp_path / "key.csv"
    key_csv.write_text(
        "id,label,Usage\n" + "".join(f"{i},{i % 3},{'Public' if i < 4 else 'Private'}\n" for i in range(10))
    )
    key = load_key(key_csv)
    assert key.usage is not None and key.usage[:4] == ["Public"] * 4
    report = grade_bytes(("id,label\n" + "".join(f"{i},{i % 3 if i < 4 else 0}\n" for i in range(10))).encode(), key)
    public, private = report.subset(usage="public"), report.subset(usage="Private")
    assert (public.top1, public.n_key) == (1.0, 4)
    assert private.n_correct == sum(1 for i in range(4, 10) if i % 3 == 0)
    assert report.subset(["0", "1"]).n_key == 2
    assert report.predicted_labels[4:7] == [0, 0, 0] and report.true_labels[4:7] == [1, 2, 0]


def test_key_with_extra_columns_and_assignment_labels(tmp_path):
    path = tmp_path / "key.csv"
    path.write_text("image,class,x,y,w,h\n0000000.png,0,1,2,3,4\n0109539.png,8.0,1,2,3,4\n")
    key = load_key(path, labels=[str(c) for c in range(10)])
    assert key.classes == list(range(10)) and key.labels == [0, 8] and key.y.tolist() == [0, 8]
    assert key.index_of("109539") == 1 and key.class_index("8,0") == 8
    assert load_key(path).classes == list(range(9))  # every integer from the smallest to the largest


KEY_CASES = [
    ("missing", None, {}, r"the answer key '.*nope\.csv' does not exist"),
    ("empty", "", {}, r"the answer key cannot be used: key\.csv is empty"),
    ("header-only", "image,class\n", {}, r"key\.csv has a header but no rows"),
    ("no-id", "foo,class\na,1\n", {}, r"key\.csv: no id column among 'foo', 'class'"),
    ("no-label", "image,foo\na,1\n", {}, r"key\.csv: no label column among 'image', 'foo'"),
    (
        "named-column-absent",
        "image,class\na,1\n",
        {"label_column": "klass"},
        r"there is no label column 'klass'.*Did you mean 'class'\?",
    ),
    ("duplicate-id", "image,class\na,1\na,1\n", {}, r"key\.csv, line 3: id 'a' already appears on line 2"),
    (
        "label-not-in-list",
        "image,class\na,1\nb,12\n",
        {"labels": list(range(10))},
        r"key\.csv, line 3: label 12 is not in the class list",
    ),
    ("empty-label", "image,class\na,\n", {}, r"key\.csv, line 2: the label cell of id 'a' is empty"),
    ("short-row", "image,x,class\na,1\n", {}, r"key\.csv, line 2: the row has 2 cells, 3 are needed"),
    ("no-header-3-columns", "a.png,1,2\n", {}, r"no header row and 3 columns"),
]


@pytest.mark.parametrize(("text", "kwargs", "match"), [c[1:] for c in KEY_CASES], ids=[c[0] for c in KEY_CASES])
def test_bad_keys_are_usage_errors(tmp_path, text, kwargs, match):
    path = tmp_path / ("nope.csv" if text is None else "key.csv")
    if text is not None:
        path.write_text(text)
    with pytest.raises(UsageError, match=match):
        load_key(path, **kwargs)


def test_grade_file_usage_errors(tmp_path):
    key = AnswerKey.from_lists(["a"], [0])
    with pytest.raises(UsageError, match="does not exist"):
        grade_file(tmp_path / "missing.csv", key)
    with pytest.raises(UsageError, match="is a folder"):
        grade_file(tmp_path, key)
    (tmp_path / "s.csv").write_text("image,class\na,0\n")
    with pytest.raises(UsageError, match="k must be"):
        grade_file(tmp_path / "s.csv", key, k=0)
    with pytest.raises(UsageError, match="parameter count"):
        grade_file(tmp_path / "s.csv", key, params=-3)
    assert isinstance(grade_file(tmp_path / "s.csv", key), GradeReport)


def test_an_invalid_file_keeps_its_warnings_apart_from_its_errors() -> None:
    from rich.console import Console

    from grading.report import render_summary

    key = AnswerKey.from_lists(["0000000.png", "0000001.png", "0000002.png"], [0, 8, 3], classes=range(10))
    report = grade_bytes(b"image,class\n0000000.png,0\n0000000.png,1\n0000001.png,eight\n", key)
    assert report.status == "invalid"
    assert [e.code for e in report.errors] == ["conflicting_rows"]
    assert [w.code for w in report.warnings] == ["invalid_label", "missing_rows"]
    console = Console(record=True, width=300)
    console.print(render_summary(report))
    lines = console.export_text().splitlines()
    assert [line[:3] for line in lines[1:]] == ["  ✗", "  !", "  !"]
