// Checks that what the e2e tests drive is there: the built server, the Codex CLI (devDependency),
// the pinned Inspector under Node 22 and the pinned Claude Code (scripts/e2e.sh installs them before
// starting vitest).
import { existsSync } from 'node:fs';
import { CLI } from '../support/paths.js';
import { CLAUDE_TOOLS, CODEX_BIN, INSPECTOR_CLI, NODE22 } from './hosts.js';

export default function setup(): void {
  const missing = [
    [CLI, 'run npm run build'],
    [CODEX_BIN, 'run npm ci (the Codex CLI is a devDependency)'],
    [NODE22, 'run npm run e2e (it installs the pinned tools)'],
    [INSPECTOR_CLI, 'run npm run e2e (it installs the pinned tools)'],
    [CLAUDE_TOOLS, 'run npm run e2e (it installs the pinned tools)'],
  ].filter(([file]) => !existsSync(file!));
  if (missing.length > 0) throw new Error(missing.map(([file, fix]) => `${file} is missing: ${fix}`).join('\n'));
}
