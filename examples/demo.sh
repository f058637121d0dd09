#!/usr/bin/env bash
# The README's demo (`make demo`): a TA's end of term, on data made on the spot.
# Everything runs offline; outputs land in the folder given as $1 (default demo-out/).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-demo-out}
rm -rf "$out" && mkdir -p "$out" && out=$(cd "$out" && pwd)
M="python -m reference_models"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
have_tex() { command -v latexmk >/dev/null && command -v pdflatex >/dev/null; }

step "1. derive: dL/dw11 of HW2 2024 (4x4 input, 3x3 sigmoid conv, dense sum, MSE), with numbers checked by autograd"
derive grad --wrt w11 --loss mse --random 0
derive grad --wrt w11 --loss mse --random 0 --format json > "$out/w11.json"
derive grad --wrt a21 --loss bce --format latex > "$out/a21.tex"
echo "(also wrote $out/w11.json and $out/a21.tex)"

step "1b. derive grad --net: next year's variation as a network file (two 3x3 kernels, ReLU, 2x2 max-pool, dense 3, softmax-CE)"
derive grad --net "$here/board-net.toml" --wrt "conv1.w[0,0,1,1]" --random 3

step "2. derive key: the HW2 2024 answer key, and a variant per student of HW1 2025"
if have_tex; then
  derive key "$here/hw2-2024.toml" --out "$out/key-hw2-2024.pdf"
  derive key "$here/hw1-2025.toml" --roster "$here/roster.csv" --seed 11 --out "$out/variants"
else
  echo "(TeX Live is not installed: writing .tex only; apt-get install texlive-latex-base texlive-latex-recommended latexmk)"
  derive key "$here/hw2-2024.toml" --tex --out "$out/key-hw2-2024.pdf"
  derive key "$here/hw1-2025.toml" --roster "$here/roster.csv" --seed 11 --tex --out "$out/variants"
fi

step "3. derive params: the HW1 2023 CIFAR-10 network, with the working"
derive params hw1-cifar

step "4. reference_models: HW2 test data (generated from scikit-learn's digits), the shipped reference model (1,438 parameters)"
$M make-data hw2 --out "$out/hw2" --n-train 0 --n-test 1000 --seed 2024
$M evaluate hw2-digits-small --data "$out/hw2"
$M predict hw2-digits-small --data "$out/hw2" --out "$out/reference/HW2_prob1.csv"
$M figures hw2-digits-small --data "$out/hw2" --out "$out/figures"

step "5. grade one file: the reference prediction"
grade "$out/reference/HW2_prob1.csv" --key "$out/hw2/test/labels.csv" \
  --model "$here/../reference_models/models/hw2_digits_small.safetensors"

step "6. grade a class: a Moodle zip of messy student files, with the reference as the baseline row"
python "$here/make_class.py" "$out/reference/HW2_prob1.csv" "$out/class.zip"
sed -e "s|^path = \"key.csv\"|path = \"$out/hw2/test/labels.csv\"|" \
    -e "s|^name = \"Handout CNN\"|name = \"gradkit reference (hw2-digits-small)\"|" \
    -e "s|^predictions = \"baseline.csv\"|predictions = \"$out/reference/HW2_prob1.csv\"|" \
    -e "s|^params = 1_250_858|params = $(derive params hw2-digits-small --format json | python -c 'import json,sys; print(json.load(sys.stdin)["total"])')|" \
    -e "/^usage_column/d" \
    -e "s|^max_size = .*|&\nparams_file = \"params.csv\"|" \
    "$here/hw2/assignment.toml" > "$out/assignment.toml"
(cd "$out" && grade class.zip --out results) || true

step "7. grade the derivation half: each student's answers against their own variant of step 2, mistakes named"
python "$here/make_responses.py" "$out/variants/answers.json" "$out/responses.csv"
grade "$out/responses.csv" --variants "$out/variants/answers.json" --out "$out/answers-results"

step "8. grade the notebooks: a Moodle zip of HW1 2025 notebooks (several notations, 中文 and English, one hostile), never run"
python "$here/make_notebooks.py" "$out/notebooks"
grade "$out/notebooks/submissions.zip" --key "$here/notebooks-assignment.toml" --out "$out/notebook-results"
python -c 'import json,sys; s=json.load(open(sys.argv[1]))["students"][1]; print(s["name"], [(q["question"], q["verdict"], q["misconception"]) for q in s["notebook"]["questions"]])' \
  "$out/notebook-results/results.json"

step "9. a CSV and a notebook each: HW2's predictions beside HW1's notebook, one gradebook row and one LMS grade per student"
python "$here/make_csv_and_notebooks.py" "$out/notebooks/submissions.zip" "$out/reference/HW2_prob1.csv" \
  "$out/hw2/test/labels.csv" "$out/both"
grade "$out/both/submissions.zip" --key "$out/both/assignment.toml" --out "$out/both/results" --allow-partial

echo
echo "Open $out/results/leaderboard.html and $out/results/feedback/; upload $out/results/moodle-grading-worksheet.csv"
echo "to Moodle (View all submissions -> Grading action -> Upload grading worksheet); see the README for Canvas."
