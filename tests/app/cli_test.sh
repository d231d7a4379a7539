#!/usr/bin/env bash
# cli_test.sh CITYBED -- checks the CLI's contract: help, version, exit codes, error messages.
set -u
bin=$1
fail=0
expect() {  # expect NAME WANT_RC REGEX -- CMD...
  local name=$1 want=$2 regex=$3; shift 4
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [[ $rc -ne $want ]]; then echo "FAIL $name: exit $rc, want $want"; echo "$out"; fail=1; return; fi
  if ! grep -qE -- "$regex" <<<"$out"; then echo "FAIL $name: output does not match /$regex/"; echo "$out"; fail=1; return; fi
  echo "ok   $name"
}
expect "--version prints version and commit" 0 '^citybed [0-9]+\.[0-9]+\.[0-9]+ \(commit [0-9a-f]{7,}|unknown' -- "$bin" --version
expect "--help lists the commands"           0 'Subcommands:' -- "$bin" --help
expect "--help documents exit codes"         0 'Exit codes' -- "$bin" --help
expect "unknown option exits 2"              2 'not expected: --bogus' -- "$bin" --bogus
expect "unknown command exits 2"             2 'not expected: frobnicate' -- "$bin" frobnicate
expect "no command exits 2"                  2 'no command given' -- "$bin"
expect "bad option value exits 2"            2 'utilization' -- "$bin" demo --utilization 7
expect "demo compares with theory"           0 'theory' -- "$bin" demo --replications 2 --customers 1000
exit $fail
