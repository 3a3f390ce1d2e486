// The sandbox a command of agentbox runs in, rebuilt for the raw `bwrap` baselines of the bench:
// the argv agentbox's own (built) sandbox module makes for a workspace-write session on the
// workspace (mounts, protected paths, hidden host paths, the /dev/shm size of the default memory
// limit), and the seccomp program it hands bwrap on file descriptor 3. bench/compare.mjs and
// bench/exec.bench.mjs both use it, so every raw bwrap figure is the same sandbox as agentbox's;
// test/bench/smoke.test.ts runs it, so a change in the sandbox module's API fails `npm test`.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fromDist } from './lib.mjs';

/**
 * @typedef {object} Sandbox
 * @property {string} bwrap the bwrap binary agentbox would use
 * @property {string} bash the bash binary agentbox would use
 * @property {string[]} args bwrap's options, ending with `--`: the command follows
 * @property {Buffer} seccomp the seccomp program bwrap reads on fd 3
 * @property {(command: string[]) => Promise<number>} run runs `command` in the sandbox from this
 *   process (its own process group, as agentbox does), drains its output, resolves with the bytes
 *   it printed; rejects on a non-zero exit
 */

/**
 * The sandbox of a workspace-write session on `ws` with the private temp dir `tmp`.
 * @param {{ ws: string, tmp: string, env: Record<string, string>, home: string }} opts `env`: what
 *   raw commands get; `home`: an AGENTBOX_HOME without a config file (so the defaults apply)
 * @returns {Promise<Sandbox>}
 */
export async function agentboxSandbox({ ws, tmp, env, home }) {
  /** @type {typeof import('../src/sandbox/index.js')} */
  const sb = await fromDist('sandbox/index.js');
  /** @type {typeof import('../src/config/index.js')} */
  const cfg = await fromDist('config/index.js');
  /** @type {typeof import('../src/util/which.js')} */
  const { which } = await fromDist('util/which.js');
  const { config } = cfg.loadConfig({ env: { AGENTBOX_HOME: path.join(home, '.agentbox-defaults') } });
  const bwrap = which('bwrap', env.PATH);
  const bash = which('bash', env.PATH);
  if (!bwrap || !bash) throw new Error('bwrap or bash not found on PATH');
  const policy = await sb.existingRoots(sb.buildPolicy({ mode: 'workspace-write', roots: [ws], tmpDir: tmp }));
  const args = sb.buildBwrapArgs({
    policy,
    protectedMounts: await sb.findProtectedPaths(policy),
    host: await sb.findHostPaths(policy, env),
    shmBytes: config.sandbox.max_memory_mb * 1024 * 1024,
    seccompFd: 3,
    cwd: ws,
    newSession: true,
  });
  const seccomp = sb.keyringSeccompFilter();
  return { bwrap, bash, args, seccomp, run: (command) => runSandboxed(bwrap, [...args, ...command], seccomp, { cwd: ws, env }) };
}

/**
 * Spawns bwrap with `args`, writes `seccomp` to its fd 3, drains stdout and stderr; resolves with
 * the bytes printed, rejects on a non-zero exit. Also used by bench/spawner.mjs.
 * @param {string} bwrap
 * @param {string[]} args
 * @param {Buffer} seccomp
 * @param {{ cwd: string, env: Record<string, string> }} opts
 * @returns {Promise<number>}
 */
export function runSandboxed(bwrap, args, seccomp, { cwd, env }) {
  return new Promise((resolve, reject) => {
    const child = spawn(bwrap, args, { cwd, env, detached: true, stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    const fd3 = /** @type {import('node:stream').Writable} */ (child.stdio[3]);
    fd3.on('error', () => undefined);
    fd3.end(seccomp);
    child.stdin.end();
    let bytes = 0;
    let err = '';
    child.stdout.on('data', (b) => (bytes += b.length));
    child.stderr.on('data', (b) => (err += String(b).slice(0, 500)));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(bytes) : reject(new Error(`bwrap exited ${code}: ${err}`))));
  });
}
