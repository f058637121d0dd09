#!/usr/bin/env bash
# The README's demo: every step a TA would take, on data made on the spot.
set -euo pipefail
out=${1:-demo-out}
mkdir -p "$out"
echo "== derive: dL/dw11 of the HW2 2024 problem (MSE)"
derive --help
