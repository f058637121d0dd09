"""Make a small class of HW2 submissions for the demo, as a Moodle "download all" zip.

The students' files are what a TA really receives, built from one prediction CSV
(the reference model's) by changing the format and some answers:

- Ada Lovelace: the prediction as it is (image,class,class_2,class_3).
- Alan Turing: saved by Excel: semicolons, a BOM, CRLF, leading zeros stripped, top-1 only.
- Grace Hopper: a pandas index column, labels written 8.0, 15 % of answers wrong.
- "Lee, Kai": a comma in the name; rows shuffled, a missing row, a duplicate, a word for a class.
- =SUM(1+1)*cmd: a name that is a spreadsheet formula (the gradebook must defuse it).
- Empty Handed: a header and nothing else (invalid).

Also writes params.csv beside the zip (student,params: the parameter counts the
students reported), for the ranking on top-1 / parameters.

Usage: python examples/make_class.py PREDICTIONS.csv OUT.zip [--seed 0]
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import zipfile
from pathlib import Path


def _rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        return next(reader), list(reader)


def _csv(header: list[str], rows: list[list[str]], *, delimiter: str = ",", newline: str = "\n") -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()


def make_class(predictions: Path, out: Path, *, seed: int = 0) -> list[str]:
    """Write the zip; return the students' names."""
    rng = random.Random(seed)
    header, rows = _rows(predictions)
    n_classes = 10

    def wrong(rows: list[list[str]], fraction: float) -> list[list[str]]:
        changed = []
        for row in rows:
            row = list(row)
            if rng.random() < fraction:
                row[1] = str((int(row[1]) + rng.randrange(1, n_classes)) % n_classes)
            changed.append(row)
        return changed

    files: dict[str, bytes] = {}
    files["Ada Lovelace"] = _csv(header, rows).encode()
    excel = [[str(int(r[0].removesuffix(".png"))), r[1]] for r in wrong(rows, 0.05)]
    files["Alan Turing"] = ("\ufeff" + _csv(["image", "class"], excel, delimiter=";", newline="\r\n")).encode()
    pandas = [[str(i), r[0], f"{float(r[1]):.1f}"] for i, r in enumerate(wrong(rows, 0.15))]
    files["Grace Hopper"] = _csv(["", "image", "class"], pandas).encode()
    messy = [r[:2] for r in wrong(rows, 0.08)]
    rng.shuffle(messy)
    messy = messy[1:] + [messy[2]]  # one row missing, one duplicated
    messy[5] = [messy[5][0], "eight"]
    files["Lee, Kai"] = _csv(["Image", " Class "], messy).encode()
    files["=SUM(1+1)*cmd"] = _csv(header[:2], wrong([r[:2] for r in rows], 0.3)).encode()
    files["Empty Handed"] = b"image,class\n"

    out.parent.mkdir(parents=True, exist_ok=True)
    reported = [2_938, 1_250_858, 5_120, 48_200, 410, None]  # Empty Handed reported nothing
    params = ["student,params"]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for n, (name, data) in enumerate(files.items()):
            z.writestr(f"{name}_{31000 + n}_assignsubmission_file_/HW2_prob1.csv", data)
            if reported[n] is not None:
                params.append(f"{31000 + n},{reported[n]}")
    (out.parent / "params.csv").write_text("\n".join(params) + "\n", encoding="utf-8")
    return list(files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("predictions", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    names = make_class(args.predictions, args.out, seed=args.seed)
    print(f"wrote {args.out}: {len(names)} students ({', '.join(names)})")


if __name__ == "__main__":
    main()
