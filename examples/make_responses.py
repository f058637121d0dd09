"""Write a class's derivation answers for the demo, from `derive key --roster`'s answers.json.

    python examples/make_responses.py keys/answers.json responses.csv

One student answers every question right, one flips a sign, one writes the numbers as a
student would (decimal comma, "≈", rounded), one writes something unreadable, one answers nothing.
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path


def main(answers_json: str, out: str) -> None:
    entries = json.loads(Path(answers_json).read_text(encoding="utf-8"))
    names = [q["name"] for q in entries[0]["questions"]]
    styles = [
        lambda v: repr(v),  # right
        lambda v: repr(-v),  # a sign slip
        lambda v: "≈ " + f"{v:.4g}".replace(".", ","),  # right, as typed on a phone
        lambda v: "__import__('os').system('id')",  # never run: unreadable
        lambda v: "",  # missing
    ]
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student", *names])
        for i, e in enumerate(entries):
            style = styles[i % len(styles)]
            w.writerow([e["student"], *(style(e["answers"][n]) for n in names)])
    print(f"wrote {out}: {len(entries)} students, questions {', '.join(names)}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
