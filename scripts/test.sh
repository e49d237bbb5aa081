#!/usr/bin/env bash
# The full test suite against real servers. Prints a final "N passed, N failed" line and
# exits non-zero on any failure or when no test ran. Extra arguments go to Jest
# (e.g. `npm test -- test/platform`).
set -uo pipefail
cd "$(dirname "$0")/.."
export CI="${CI:-true}"            # the servers are installed below, so a missing one is an error
export ONNXRUNTIME_NODE_INSTALL=skip
bash scripts/ensure-system-packages.sh || exit 1
npm run build --silent || { echo "0 passed, 1 failed"; exit 1; }
report_dir=$(mktemp -d)
trap 'rm -rf "$report_dir"' EXIT
NODE_OPTIONS=--experimental-vm-modules timeout --kill-after=30 ${SB_TEST_TIMEOUT:-3000} \
  npx --no-install jest -c core/jest.config.js --forceExit --json --outputFile="$report_dir/jest.json" "$@"
jest_status=$?
node -e '
  const fs = require("node:fs");
  const file = process.argv[1];
  let passed = 0, failed = 0;
  if (fs.existsSync(file)) {
    const report = JSON.parse(fs.readFileSync(file, "utf8"));
    passed = report.numPassedTests;
    failed = report.numFailedTests;
    // A suite that could not run counts as a failure even if it declared no tests.
    failed += report.testResults.filter((r) => r.status === "failed" && r.assertionResults.every((a) => a.status !== "failed")).length;
  } else {
    failed = 1;
  }
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed > 0 || passed === 0 ? 1 : 0);
' "$report_dir/jest.json"
summary_status=$?
[ $jest_status -eq 0 ] && [ $summary_status -eq 0 ]
