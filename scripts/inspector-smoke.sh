#!/usr/bin/env bash
# Smoke test with an independent MCP client: the MCP Inspector CLI (@modelcontextprotocol/inspector
# 2.12.0, under Node 22 from .ci/tools/conformance) drives the built agentbox CLI (dist/cli.js, on
# the Node in PATH) over stdio and over Streamable HTTP on 127.0.0.1:
#   - tools/list names read_file, list_dir, glob and grep;
#   - tools/call read_file on a file of a temp workspace returns its text, no isError, exit 0;
#   - tools/call read_file on ../ outside the workspace is refused: isError true, Inspector exit 5.
# HOME, AGENTBOX_HOME and the workspace live in a temp dir that is removed afterwards, so neither
# Inspector (~/.mcp-inspector) nor agentbox (~/.agentbox) touches the real home.
# Usage: bash scripts/inspector-smoke.sh   (builds dist/ first if it is missing)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/conformance-tools.sh
source "$ROOT/scripts/conformance-tools.sh"

conformance_tools_install
NODE="$(command -v node)"
[ -f "$ROOT/dist/cli.js" ] || npm run build
echo "inspector smoke: inspector $(tool_version @modelcontextprotocol/inspector) on node $("$NODE22" --version), agentbox on node $("$NODE" --version)"

T="$(mktemp -d "${TMPDIR:-/tmp}/agentbox-inspector-XXXXXX")"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$T/home" "$T/agentbox-home" "$T/ws/src"
MARKER="inspector-smoke-$$-$RANDOM"
printf 'first line\n%s\nthird line\n' "$MARKER" >"$T/ws/src/hello.txt"
printf 'outside the workspace\n' >"$T/outside.txt"
export HOME="$T/home" AGENTBOX_HOME="$T/agentbox-home" AGENTBOX_LOG_LEVEL=warn
# A read-only session config for the stdio server (Inspector passes `env` to the process it spawns).
cat >"$T/mcp.json" <<EOF
{"mcpServers":{"agentbox":{"command":"$NODE","args":["$ROOT/dist/cli.js","serve","--stdio","--root","$T/ws"],
 "env":{"AGENTBOX_HOME":"$T/agentbox-home","AGENTBOX_LOG_LEVEL":"warn"}}}}
EOF

passed=0
failed=0
# check <name> <expected inspector exit> <JS boolean expression over `r` (the JSON-RPC result)> -- <inspector args>
check() {
  local name="$1" want_rc="$2" expr="$3"
  shift 4
  local rc=0
  "$NODE22" "$INSPECTOR_CLI" --cli "$@" --format json -q >"$T/out.json" 2>"$T/err.txt" || rc=$?
  local why="" jrc=0
  if [ "$rc" -ne "$want_rc" ]; then
    why="inspector exited $rc, want $want_rc"
  else
    why="$("$NODE" -e '
      const fs = require("node:fs");
      let r;
      try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")).result; } catch (e) { console.log("output is not JSON: " + e.message); process.exit(1); }
      if (!(0, eval)("(r) => (" + process.argv[2] + ")")(r)) { console.log("unexpected result: " + JSON.stringify(r).slice(0, 400)); process.exit(1); }
    ' "$T/out.json" "$expr")" || jrc=$?
    if [ "$jrc" -ne 0 ] && [ -z "$why" ]; then why="check failed (exit $jrc)"; fi
  fi
  if [ -z "$why" ]; then
    passed=$((passed + 1))
    echo "  ok    $name"
  else
    failed=$((failed + 1))
    echo "  FAIL  $name: $why"
    sed 's/^/        stderr: /' "$T/err.txt" | head -5
  fi
}

TOOLS_EXPR='["read_file","list_dir","glob","grep"].every((n) => r.tools.some((t) => t.name === n))'
READ_EXPR="r.isError === undefined && r.content.length === 1 && r.content[0].type === 'text' && r.content[0].text.includes('$MARKER') && r.content[0].text.includes('src/hello.txt')"
DENY_EXPR="r.isError === true && /outside/.test(r.content[0].text)"

smoke() { # <transport> <inspector target args...>
  local tr="$1"
  shift
  check "$tr: tools/list has read_file, list_dir, glob, grep" 0 "$TOOLS_EXPR" -- "$@" --method tools/list
  check "$tr: tools/call read_file src/hello.txt" 0 "$READ_EXPR" -- "$@" --method tools/call --tool-name read_file --tool-arg path=src/hello.txt
  check "$tr: tools/call read_file ../outside.txt is refused" 5 "$DENY_EXPR" -- "$@" --method tools/call --tool-name read_file --tool-arg path=../outside.txt
}

echo "inspector smoke: stdio"
smoke stdio --config "$T/mcp.json" --server agentbox

echo "inspector smoke: http"
"$NODE" "$ROOT/dist/cli.js" serve --http --host 127.0.0.1 --port 0 --root "$T/ws" >"$T/http.out" 2>"$T/http.err" &
SERVER_PID=$!
URL=""
for _ in $(seq 1 300); do # up to 30 s
  URL="$(sed -n 's/^agentbox .* listening on \(http:[^ ]*\)$/\1/p' "$T/http.err")"
  [ -n "$URL" ] && break
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$URL" ]; then
  failed=$((failed + 1))
  echo "  FAIL  http: agentbox serve --http did not start:"
  sed 's/^/        /' "$T/http.err" | head -20
else
  MCP_CATALOG_PATH="$T/catalog.json" smoke http "$URL" --transport http
fi

echo "inspector smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
