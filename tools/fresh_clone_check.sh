#!/usr/bin/env bash
# A fresh clone runs the documented shell commands verbatim: every line of the ```sh blocks
# of README.md and docs/getting-started.md, in order, in one shell (so `. .venv/bin/activate`
# holds for the lines after it). `make test` is left out (CI runs it on its own), and so is
# `make serve` (a server runs until stopped).
# The clone is of the committed HEAD; uncommitted changes are not part of the check.
# Usage: tools/fresh_clone_check.sh   (exit 0 when every command succeeded)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
git clone --quiet "$repo" "$work/rechallenge"
cd "$work/rechallenge"

awk '/^```sh$/ {on = 1; next} /^```$/ {on = 0} on' README.md docs/getting-started.md \
  | grep -Ev '^make (test|bench|serve)\b' > "$work/commands.sh"
echo "fresh-clone check: $(wc -l < "$work/commands.sh") documented command(s)"
start=$SECONDS
bash -euo pipefail -x "$work/commands.sh"

# what the documents promise those commands leave behind
trap 'echo "fresh-clone check failed at line $LINENO: $BASH_COMMAND" >&2; rm -rf "$work"' ERR
test -f results/report.html
test -f results/results.json
grep -q '"status": "complete"' results/.rechallenge-run.json
test -f demo-output/report.html
test -f ../study-key.csv
head -1 ../study-key.csv | grep -qx 'pseudonym,patient_id'
if grep -rq 'QZ-0001' results/; then  # no patient ID in the shareable outputs
  echo "fresh-clone check failed: a patient ID in results/" >&2
  exit 1
fi
rm -f ../study-key.csv
echo "fresh-clone check passed in $((SECONDS - start)) s"
