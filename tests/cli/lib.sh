# Helpers for the CLI end-to-end tests. Each test script sources this after `set -euo pipefail`.
doppel=$1
scratch=$2
rm -rf "$scratch"
mkdir -p "$scratch"
failures=0
# A command that stops the script under `set -e` names itself, so no test ends in silence.
trap 'echo "FAIL: line $LINENO exited $?: $BASH_COMMAND" >&2' ERR

check() {  # check "description" command...
  local what=$1; shift
  if "$@"; then echo "ok: $what"; else echo "FAIL: $what"; failures=$((failures + 1)); fi
}
# Runs doppel expecting failure; stores stderr in $err.
expect_fail() {
  if "$doppel" "$@" > "$scratch/out.txt" 2> "$scratch/err.txt"; then
    echo "FAIL: expected failure: doppel $*"; failures=$((failures + 1)); err=""; return 0
  fi
  err=$(cat "$scratch/err.txt")
}
contains() { grep -q -- "$2" <<< "$1"; }
py_check() { python3 -c "import json, sys; sys.exit(0 if ($1) else 1)"; }  # py_check "expression"
finish() {
  if [ "$failures" -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
  echo "all checks passed"
}
