// Network policy: a loopback listener opened by the test is unreachable from a command while the
// network is off (a separate network namespace), and reachable with --network.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectStdio } from '../support/client.js';
import { parseExec } from '../support/exec.js';
import { tempDir, type TempDir } from '../support/workspace.js';

let listener: net.Server;
let port: number;
let connections = 0;
let ws: TempDir;

beforeAll(async () => {
  ws = tempDir();
  listener = net.createServer((socket) => {
    connections++;
    socket.end('hello from the host\n');
  });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  port = (listener.address() as net.AddressInfo).port;
});

afterAll(async () => {
  await new Promise((r) => listener.close(r));
  ws.cleanup();
});

// bash's /dev/tcp: no curl needed. `timeout` bounds the attempt.
const connectCmd = () => `timeout 5 bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port} && head -1 <&3' && echo REACHED || echo UNREACHABLE`;

describe('network', () => {
  it('is off by default: the host loopback listener cannot be reached', async () => {
    const conn = await connectStdio({ args: ['--root', ws.dir] });
    try {
      const before = connections;
      const r = parseExec((await conn.call('exec_command', { cmd: `${connectCmd()}; echo $AGENTBOX_SANDBOX_NETWORK_DISABLED` })).text);
      expect(r.output).toContain('UNREACHABLE');
      expect(r.output).not.toContain('hello from the host');
      expect(r.output.trim().endsWith('1')).toBe(true);
      expect(connections).toBe(before);
    } finally {
      await conn.close();
    }
  });

  it('is on with --network', async () => {
    const conn = await connectStdio({ args: ['--root', ws.dir, '--network'] });
    try {
      const before = connections;
      const r = parseExec((await conn.call('exec_command', { cmd: connectCmd() })).text);
      expect(r.output).toContain('hello from the host');
      expect(r.output).toContain('REACHED');
      expect(connections).toBe(before + 1);
    } finally {
      await conn.close();
    }
  });
});
