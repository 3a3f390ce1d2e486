// Installs the pinned external tools once (the same ones the conformance scripts use: Node 22 and
// the MCP Inspector CLI 2.12.0 in .ci/tools/conformance, git-ignored) and checks that the Codex CLI
// devDependency and the built server are there.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CLI, PROJECT_ROOT } from '../support/paths.js';
import { CODEX_BIN } from './hosts.js';

export default function setup(): void {
  execFileSync('bash', ['-c', 'source scripts/conformance-tools.sh && conformance_tools_install'], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm run e2e does).`);
  if (!existsSync(CODEX_BIN)) throw new Error(`${CODEX_BIN} is missing: run npm ci (the Codex CLI is a devDependency).`);
}
