#!/usr/bin/env bash
# `npm run e2e`: agentbox driven by real hosts (test/e2e/*.e2e.ts, vitest.e2e.config.ts).
# 1. Installs the pinned external tools once (Node 22 + MCP Inspector CLI 2.12.0, as the conformance
#    scripts do) and builds dist/.
# 2. Runs the tests inside a private network namespace (`unshare -rn`, loopback only): the hosts,
#    agentbox and the scripted model server all talk over 127.0.0.1, and nothing a host tries on its
#    own (Codex's update checks, analytics, DNS) can leave the machine. Without unprivileged user
#    namespaces the tests still run, and the Codex test skips itself (it only runs isolated).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/conformance-tools.sh
source "$ROOT/scripts/conformance-tools.sh"
conformance_tools_install
npm run build --silent
vitest=(node "$ROOT/node_modules/vitest/vitest.mjs" run --config vitest.e2e.config.ts "$@")
if unshare -rn true 2>/dev/null && command -v ip >/dev/null 2>&1; then
  exec unshare -rn bash -c 'ip link set lo up && exec "$@"' e2e "${vitest[@]}"
fi
echo "e2e: unshare -rn is not available here: running without a private network namespace (the Codex test skips itself)" >&2
exec "${vitest[@]}"
