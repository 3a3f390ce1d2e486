# Sourced by scripts/e2e.sh (not run on its own).
# Installs the pinned real hosts the end-to-end tests drive, from test/e2e/tools/{package.json,
# package-lock.json}, into .ci/tools/e2e (git-ignored) with `npm ci`, once: a stamp holding the
# lockfile's hash makes re-runs a no-op until the lockfile changes. The hosts are:
#   @anthropic-ai/claude-code 2.1.331   Claude Code; its native binary comes in the optional
#                                       package for this platform (@anthropic-ai/claude-code-linux-x64)
# --ignore-scripts: the package's install script only links bin/claude.exe to that binary, which
# test/e2e/claude-code.e2e.ts runs directly. (The Codex CLI is a devDependency of the project; the
# Inspector comes with scripts/conformance-tools.sh.)
# After `e2e_tools_install`, CLAUDE_BIN is set.

ROOT="${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
E2E_TOOLS_SRC="$ROOT/test/e2e/tools"
E2E_TOOLS_DIR="$ROOT/.ci/tools/e2e"

e2e_claude_bin() {
  local dir="$E2E_TOOLS_DIR/node_modules/@anthropic-ai" d
  # The glibc build by its exact name (a -musl sibling may be installed beside it).
  d="$dir/claude-code-linux-x64"
  [ -x "$d/claude" ] && { echo "$d/claude"; return 0; }
  return 1
}

e2e_tools_install() {
  local want have=""
  want="$(sha256sum "$E2E_TOOLS_SRC/package-lock.json" | cut -d' ' -f1)"
  [ -f "$E2E_TOOLS_DIR/.stamp" ] && have="$(cat "$E2E_TOOLS_DIR/.stamp")"
  if [ "$want" = "$have" ] && CLAUDE_BIN="$(e2e_claude_bin)"; then
    return 0
  fi
  echo "tools: installing the pinned e2e hosts into ${E2E_TOOLS_DIR#"$ROOT"/} (npm ci)"
  mkdir -p "$E2E_TOOLS_DIR"
  rm -f "$E2E_TOOLS_DIR/.stamp"
  cp "$E2E_TOOLS_SRC/package.json" "$E2E_TOOLS_SRC/package-lock.json" "$E2E_TOOLS_DIR/"
  # Engine warnings are expected: Claude Code's package asks for Node 22, npm runs on the machine's
  # Node; the native binary needs no Node at all.
  (cd "$E2E_TOOLS_DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  CLAUDE_BIN="$(e2e_claude_bin)" || { echo "tools: no Claude Code binary for this platform after install (looked in $E2E_TOOLS_DIR/node_modules/@anthropic-ai/claude-code-linux-*)" >&2; return 1; }
  echo "$want" > "$E2E_TOOLS_DIR/.stamp"
  echo "tools: claude $("$CLAUDE_BIN" --version)"
}
