"""The ``grade`` command: wiring, exit codes, JSON contract, start-up imports, one run per mode."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from grading.report import JSON_FIELDS

IDS = [f"{i:07d}.png" for i in range(20)]
LABELS = [i % 10 for i in range(20)]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "grading", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "key.csv").write_text("image,class\n" + "".join(f"{i},{c}\n" for i, c in zip(IDS, LABELS)))
    rows = [f"{i},{c if n != 3 else 'eight'}" for n, (i, c) in enumerate(zip(IDS, LABELS))]
    (tmp_path / "HW2_prob1.csv").write_text("image,class\n" + "\n".join(rows) + "\n")
    (tmp_path / "empty.csv").write_bytes(b"")
    return tmp_path


def test_summary_of_one_file(folder):
    out = run("HW2_prob1.csv", "--key", "key.csv", cwd=folder)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "top-1  0.9500  (19 of 20 correct)" in text
    assert "top-3  unavailable" in text
    assert "Confusion matrix (rows = true class, columns = predicted class)" in text
    assert "recall" in text and "precision" in text
    assert "HW2_prob1.csv, line 5: class 'eight' is not a number from 0 to 9; the row counts as wrong." in " ".join(
        text.split()
    )
    assert "scikit-learn" in text  # the tie rule is stated


def test_json_is_exactly_the_contract(folder):
    out = run("HW2_prob1.csv", "--key", "key.csv", "--json", "--params", "1000", cwd=folder)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert tuple(data) == JSON_FIELDS
    assert (data["status"], data["n_key"], data["n_correct"], data["top1"], data["top3"]) == ("ok", 20, 19, 0.95, None)
    assert data["top1_per_param"] == pytest.approx(0.95 / 1000)
    assert [w["code"] for w in data["warnings"]] == ["invalid_label", "top_k_unavailable"]


def test_invalid_file_exits_1(folder):
    out = run("empty.csv", "--key", "key.csv", "--json", cwd=folder)
    assert out.returncode == 1
    assert json.loads(out.stdout)["errors"][0]["code"] == "empty"
    out = run("empty.csv", "--key", "key.csv", cwd=folder)
    assert out.returncode == 1 and "invalid, not scored" in out.stdout and "empty.csv is empty" in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["HW2_prob1.csv"], "grade: error: no answer key: pass --key key.csv"),
        (["nope.csv", "--key", "key.csv"], "grade: error: 'nope.csv' does not exist"),
        (["HW2_prob1.csv", "--key", "nokey.csv"], "grade: error: the answer key 'nokey.csv' does not exist"),
        (
            ["HW2_prob1.csv", "--key", "key.csv", "--k", "0"],
            "grade: error: k must be a whole number of at least 1, got 0.",
        ),
        (
            ["HW2_prob1.csv", "--key", "key.csv", "--params", "5", "--model", "m.pt"],
            "grade: error: give either --params N or --model FILE",
        ),
        (
            ["HW2_prob1.csv", "--key", "key.csv", "--model", "m.pt"],
            "grade: error: the model file 'm.pt' does not exist",
        ),
    ],
    ids=["no-key", "no-file", "no-key-file", "k0", "params-and-model", "no-model"],
)
def test_usage_errors_exit_2_in_one_line(folder, args, message):
    out = run(*args, cwd=folder)
    assert out.returncode == 2
    assert out.stderr.startswith(message), out.stderr
    assert "Traceback" not in out.stderr and out.stderr.count("\n") == 1


def test_assignment_toml_in_the_current_folder_gives_key_and_k(folder):
    (folder / "assignment.toml").write_text('k = 1\n[key]\npath = "key.csv"\nlabels = [0,1,2,3,4,5,6,7,8,9]\n')
    out = run("HW2_prob1.csv", "--json", "--out", "reports", cwd=folder)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["top3"] == data["top1"] == 0.95  # k = 1 from the assignment
    assert json.loads((folder / "reports" / "HW2_prob1.json").read_text()) == data


def test_one_file_path_imports_no_heavy_library(folder):
    code = (
        "import sys; from grading.cli import main; sys.argv = ['grade', 'HW2_prob1.csv', '--key', 'key.csv']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = sorted({'torch', 'pandas', 'sklearn', 'matplotlib', 'scipy'} & set(sys.modules))\n"
        "assert not heavy, heavy"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_model_option_counts_parameters(folder):
    torch = pytest.importorskip("torch")
    torch.save(torch.nn.Linear(10, 3).state_dict(), folder / "m.pt")
    out = run("HW2_prob1.csv", "--key", "key.csv", "--model", "m.pt", "--json", cwd=folder)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["params"] == 33


def test_folder_is_graded_as_a_class(folder):
    subs = folder / "subs"
    for student, text in [("alice", (folder / "HW2_prob1.csv").read_text()), ("bob", "")]:
        (subs / student).mkdir(parents=True)
        (subs / student / "HW2_prob1.csv").write_text(text)
    out = run("subs", "--key", "key.csv", "--out", "results", cwd=folder)
    assert out.returncode == 0, out.stderr
    assert "2 submissions: 1 scored, 1 invalid." in out.stdout
    assert "✗ bob: HW2_prob1.csv is empty" in out.stdout  # who is invalid and why, without opening the gradebook
    assert (folder / "results" / "gradebook.csv").is_file()


def test_moodle_zip_is_graded_as_a_class_and_refusals_are_shown(folder):
    import zipfile

    good = (folder / "HW2_prob1.csv").read_text()
    with zipfile.ZipFile(folder / "class.zip", "w") as z:
        z.writestr("Ada Lovelace_12345_assignsubmission_file_/HW2_prob1.csv", good)
        z.writestr("Alan Turing_12346_assignsubmission_file_/HW2_prob1.csv", "image,class\n")
        z.writestr("../../evil.csv", good)
    out = run("class.zip", "--key", "key.csv", "--out", "results", "--no-heatmaps", "--anonymous", cwd=folder)
    assert out.returncode == 0, out.stderr
    assert "2 submissions: 1 scored, 1 invalid." in out.stdout
    assert "refused '../../evil.csv'" in out.stdout
    assert not (folder.parent / "evil.csv").exists()
    assert not list((folder / "results").rglob("*.png"))  # --no-heatmaps
    assert (folder / "results" / "feedback").is_dir()
    board = (folder / "results" / "leaderboard.html").read_text(encoding="utf-8")
    assert "Lovelace" not in board and "anon-" in board  # --anonymous
