// The MCP servers agentbox is compared with, installed apart from agentbox's own dependencies.
//
// Why not devDependencies: @wonderwhy-er/desktop-commander pulls in ~690 packages (~285 MB: md-to-pdf
// with puppeteer, sharp, exceljs, supabase, tiptap…) and takes about a minute to install, and its
// install scripts need the internet: its own postinstall sends install telemetry and checks for a
// ripgrep binary, puppeteer's downloads Chrome, sharp's may try to build. Putting that in the root
// package would make every `npm ci` (CI, newcomers) slow and, without the allow-scripts guard of
// recent npm, dependent on hosts other than the registry. So the peers are pinned by their own
// lockfile (bench/peers/package-lock.json) and installed on the first `npm run bench` only, with
// `npm ci --ignore-scripts` (nothing they need at run time comes from a script: ripgrep ships as
// @vscode/ripgrep's platform package, sharp as prebuilt @img packages), into bench/.work/peers,
// which git ignores. A stamp holding the lockfile's hash makes later runs skip the install.
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT } from './lib.mjs';

const SRC = path.join(ROOT, 'bench', 'peers');
export const PEERS_DIR = path.join(ROOT, 'bench', '.work', 'peers');
const modules = path.join(PEERS_DIR, 'node_modules');

export const PEERS = {
  filesystem: {
    pkg: '@modelcontextprotocol/server-filesystem',
    entry: path.join(modules, '@modelcontextprotocol', 'server-filesystem', 'dist', 'index.js'),
  },
  desktopCommander: {
    pkg: '@wonderwhy-er/desktop-commander',
    entry: path.join(modules, '@wonderwhy-er', 'desktop-commander', 'dist', 'index.js'),
  },
};

/** Installs the pinned peers once (or again when the lockfile changed); returns their versions. */
export function installPeers(log = (m) => process.stderr.write(`${m}\n`)) {
  const lock = readFileSync(path.join(SRC, 'package-lock.json'));
  const want = createHash('sha256').update(lock).digest('hex');
  const stamp = path.join(PEERS_DIR, '.stamp');
  const have = existsSync(stamp) ? readFileSync(stamp, 'utf8').trim() : '';
  if (want !== have || !Object.values(PEERS).every((p) => existsSync(p.entry))) {
    log('bench: installing the peer servers into bench/.work/peers (npm ci --ignore-scripts, once; about a minute)');
    mkdirSync(PEERS_DIR, { recursive: true });
    for (const f of ['package.json', 'package-lock.json']) copyFileSync(path.join(SRC, f), path.join(PEERS_DIR, f));
    const r = spawnSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: PEERS_DIR, stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`npm ci of the peer servers failed (exit ${r.status})`);
    writeFileSync(stamp, `${want}\n`);
  }
  return Object.fromEntries(
    Object.entries(PEERS).map(([k, p]) => [k, JSON.parse(readFileSync(path.join(modules, ...p.pkg.split('/'), 'package.json'), 'utf8')).version]),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(installPeers());
