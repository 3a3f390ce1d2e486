#!/usr/bin/env bash
# `npm run e2e`: agentbox driven by real hosts (test/e2e/*.e2e.ts, vitest.e2e.config.ts).
# 1. Installs the pinned external tools once (Node 22 + MCP Inspector CLI 2.12.0, as the conformance
#    scripts do; Claude Code 2.1.331, scripts/e2e-tools.sh) and builds dist/.
# 2. Runs the tests inside a private network namespace (`unshare -rn`, loopback only): the hosts,
#    agentbox and the scripted model server all talk over 127.0.0.1, and nothing a host tries on its
#    own (Codex's update checks, analytics, DNS) can leave the machine. Without unprivileged user
#    namespaces (or without `ip` to bring loopback up) the Inspector tests still run, but the Codex
#    and Claude Code tests skip themselves (they only run isolated): this script then prints a WARN line naming
#    what was skipped and why, before and after the test output (and a GitHub Actions warning
#    annotation when CI is set), so a CI log cannot pass that off as a full run.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/conformance-tools.sh
source "$ROOT/scripts/conformance-tools.sh"
# shellcheck source=scripts/e2e-tools.sh
source "$ROOT/scripts/e2e-tools.sh"
echo "e2e: installing the pinned host tools (once) and building dist/" >&2
conformance_tools_install
e2e_tools_install
npm run build --silent
vitest=(node "$ROOT/node_modules/vitest/vitest.mjs" run --config vitest.e2e.config.ts "$@")

why=""
if ! unshare -rn true 2>/dev/null; then
  why="unprivileged user namespaces are not available here (\`unshare -rn true\` failed)"
elif ! command -v ip >/dev/null 2>&1; then
  why="\`ip\` (iproute2) is not installed, so loopback cannot be brought up in the private network namespace"
fi

if [ -z "$why" ]; then
  echo "e2e: running the Inspector, Codex CLI and Claude Code tests in a private network namespace (loopback only)" >&2
  exec unshare -rn bash -c 'ip link set lo up && exec "$@"' e2e "${vitest[@]}"
fi

warn() {
  local msg="WARN e2e: SKIPPED the Codex CLI and Claude Code tests (test/e2e/codex.e2e.ts, test/e2e/claude-code.e2e.ts, stdio and HTTP): $why; these hosts must not reach the network, so they only run in a private network namespace. The MCP Inspector tests still run."
  echo "$msg" >&2
  if [ -n "${CI:-}" ]; then echo "::warning title=e2e: Codex CLI and Claude Code tests skipped::$msg"; fi
}
warn
status=0
"${vitest[@]}" || status=$?
warn
exit "$status"
