// tools/list: what agentbox's tool list costs a host's model on every turn, as sent (the JSON of
// the `tools` array a host receives), for the default set and the other usual configurations.
// Target (issue 13): the default set no larger than 22,040 characters, the size before every
// parameter had a description. No timing: a size is the same on every machine.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { atExit, connectAgentbox, table } from './lib.mjs';

const TARGET = 22_040;
const ws = mkdtempSync(path.join(os.tmpdir(), 'agentbox-bench-tools-'));
const home = mkdtempSync(path.join(os.tmpdir(), 'agentbox-bench-home-'));
atExit(() => {
  rmSync(ws, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

/** @type {Array<[string, string[]]>} */
const configs = [
  ['default (all groups, workspace-write)', []],
  ['--sandbox read-only', ['--sandbox', 'read-only']],
  ['--tools files,shell', ['--tools', 'files,shell']],
  ['--tools delegate', ['--tools', 'delegate']],
  ['default + --codex-compat', ['--codex-compat']],
];

/** @type {string[][]} */
const rows = [];
/** @type {string[][]} */
let perTool = [];
for (const [name, args] of configs) {
  const c = await connectAgentbox(['--root', ws, ...args], { env: { AGENTBOX_HOME: home, AGENTBOX_LOG_LEVEL: 'warn' } });
  const { tools } = await c.client.listTools();
  await c.close();
  const params = tools.reduce((n, t) => n + Object.keys(t.inputSchema.properties ?? {}).length, 0);
  const described = tools.reduce(
    (n, t) => n + Object.values(/** @type {Record<string, { description?: string }>} */ (t.inputSchema.properties ?? {})).filter((p) => p.description).length,
    0,
  );
  rows.push([name, String(tools.length), `${described}/${params}`, JSON.stringify({ tools }).length.toLocaleString('en-US')]);
  if (perTool.length === 0) perTool = tools.map((t) => [t.name, JSON.stringify(t).length.toLocaleString('en-US'), t.outputSchema ? 'yes' : '']);
}

const size = Number((rows[0]?.[3] ?? '').replace(/,/g, ''));
console.log(`## tools/list size

Characters of JSON in the \`tools\` array a host receives (what sits in its model's context on every turn).
Target: the default set at most ${TARGET.toLocaleString('en-US')} characters (its size before every parameter had a description):
**${size <= TARGET ? 'met' : 'NOT met'}**, ${size.toLocaleString('en-US')}.

${table(['configuration', 'tools', 'parameters described', 'characters'], rows)}

Per tool, default set:

${table(['tool', 'characters', 'outputSchema'], perTool)}`);
