// `agentbox serve --http` as a separate process on 127.0.0.1 (port chosen by the OS), for tests
// whose client is another program (the MCP Inspector CLI, Codex) rather than the SDK in-process.
import { spawn } from 'node:child_process';
import { CLI } from './paths.js';

export interface HttpServer {
  url: string;
  pid: number;
  /** SIGTERM, then resolves with the exit code once the server has exited. */
  stop(): Promise<number | null>;
}

export async function startHttpServer(opts: { args: string[]; env: Record<string, string> }): Promise<HttpServer> {
  const proc = spawn(process.execPath, [CLI, 'serve', '--http', '--host', '127.0.0.1', '--port', '0', ...opts.args], {
    env: opts.env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const deadline = Date.now() + 20_000;
  let url: string | undefined;
  while (!url) {
    url = /listening on (http:\/\/\S+\/mcp)/.exec(stderr)?.[1];
    if (url) break;
    if (proc.exitCode !== null || Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`agentbox serve --http did not start: ${stderr.slice(0, 2000)}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    url,
    pid: proc.pid!,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
}
