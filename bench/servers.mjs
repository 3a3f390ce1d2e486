// Starting the contenders of `npm run bench` the same way: one SDK client (bench/lib.mjs) over
// stdio, the same clean environment (PATH of the system directories plus this Node, a temporary
// HOME, C.UTF-8), the same workspace.
//
// Desktop Commander is started as a user would start it, with three things changed so that it
// stays on this machine and writes nowhere but the temporary HOME:
//   - its config (~/.claude-server-commander/config.json under the temporary HOME) is pre-seeded
//     with allowedDirectories = [workspace] and telemetryEnabled = false;
//   - DESKTOP_COMMANDER_DISABLE_TELEMETRY=1, and DC_FLAG_URL points its feature-flag fetch (made at
//     start and every 30 minutes whatever the telemetry setting) at a closed loopback port;
//   - it runs under `unshare -rn` (its own network namespace with only a down loopback), so nothing
//     it tries (flags, telemetry, the Chrome download it starts on `initialized` for write_pdf)
//     can leave the machine. If unprivileged namespaces are unavailable it is skipped.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { atExit, CLI, connectStdioServer, killPid, ROOT } from './lib.mjs';
import { PEERS } from './peers.mjs';

const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The environment every server and raw baseline gets. */
export function benchEnv(home) {
  return { PATH: `${path.dirname(process.execPath)}:${SYSTEM_PATH}`, HOME: home, LANG: 'C.UTF-8' };
}

/** True when `unshare -rn` works here (needed to keep Desktop Commander off the network). */
export function canUnshareNet() {
  return spawnSync('unshare', ['-rn', 'true'], { stdio: 'ignore' }).status === 0;
}

export const SERVERS = {
  agentbox: {
    label: 'agentbox',
    command: (ws, home) => ({
      command: process.execPath,
      args: [CLI, 'serve', '--stdio', '--root', ws],
      env: { ...benchEnv(home), AGENTBOX_HOME: path.join(home, '.agentbox') },
    }),
  },
  // AGENTBOX_BENCH_BASELINE=<another checkout's dist/cli.js>: an earlier agentbox, run beside this
  // one in the same run, so a change's cost is measured side by side (e.g. the confinement work).
  baseline: {
    label: `agentbox before (${process.env.AGENTBOX_BENCH_BASELINE_LABEL ?? 'baseline'})`,
    command: (ws, home) => ({
      command: process.execPath,
      args: [process.env.AGENTBOX_BENCH_BASELINE ?? '', 'serve', '--stdio', '--root', ws],
      env: { ...benchEnv(home), AGENTBOX_HOME: path.join(home, '.agentbox-baseline') },
    }),
  },
  filesystem: {
    label: 'server-filesystem',
    command: (ws, home) => ({ command: process.execPath, args: [PEERS.filesystem.entry, ws], env: benchEnv(home) }),
  },
  dc: {
    label: 'Desktop Commander',
    command: (ws, home) => {
      const dir = path.join(home, '.claude-server-commander');
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ allowedDirectories: [ws], telemetryEnabled: false }, null, 2));
      return {
        command: 'unshare',
        args: ['-rn', process.execPath, PEERS.desktopCommander.entry, '--no-onboarding'],
        env: { ...benchEnv(home), DESKTOP_COMMANDER_DISABLE_TELEMETRY: '1', DC_FLAG_URL: 'http://127.0.0.1:9/flags.json' },
      };
    },
  },
};

/** Starts one server over stdio and connects the bench client (initialize included). */
export function startServer(key, ws, home) {
  const { command, args, env } = SERVERS[key].command(ws, home);
  return connectStdioServer(command, args, { env, cwd: ws });
}

/** agentbox over Streamable HTTP on 127.0.0.1, port chosen by the OS. Resolves { url, pid, stop }. */
export function startAgentboxHttp(/** @type {string} */ ws, /** @type {string} */ home) {
  return startHttpChild('agentbox --http', [CLI, 'serve', '--http', '--host', '127.0.0.1', '--port', '0', '--root', ws], {
    ...benchEnv(home),
    AGENTBOX_HOME: path.join(home, '.agentbox'),
  });
}

/** The bare MCP SDK server (bench/sdk-http-server.mjs), the floor of the HTTP case. Resolves { url, pid, stop }. */
export function startSdkHttp(/** @type {string} */ home) {
  return startHttpChild('bare SDK server', [path.join(ROOT, 'bench', 'sdk-http-server.mjs')], benchEnv(home));
}

/**
 * Starts `node ARGS` and waits for `listening on http://…` on its stderr; killed if the bench is
 * interrupted.
 * @param {string} label
 * @param {string[]} args
 * @param {Record<string, string>} env
 * @returns {Promise<{ url: string, pid: number, stop: () => Promise<void> }>}
 */
function startHttpChild(label, args, env) {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  const unregister = atExit(() => killPid(child.pid));
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${label} did not start: ${err}`)), 20_000);
    child.stderr.on('data', (b) => {
      err += b.toString();
      const m = /listening on (http:\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({
          url: m[1],
          pid: /** @type {number} */ (child.pid),
          stop: () =>
            new Promise((r) => {
              unregister();
              if (child.exitCode !== null) return r();
              child.once('exit', () => r());
              child.kill('SIGTERM');
            }),
        });
      }
    });
    child.on('exit', (code) => reject(new Error(`${label} exited ${code}: ${err}`)));
  });
}
