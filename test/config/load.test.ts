import { writeFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, flagsLayer, loadConfig } from '../../src/config/index.js';
import { CLI } from '../support/paths.js';
import { tempDir, type TempDir } from '../support/workspace.js';

let home: TempDir;
afterEach(() => home?.cleanup());

const withFile = (toml: string) => {
  home = tempDir('agentbox-home-');
  writeFileSync(home.path('config.toml'), toml);
  return { AGENTBOX_HOME: home.dir };
};

describe('loadConfig', () => {
  it('uses defaults when there is no file', () => {
    home = tempDir('agentbox-home-');
    const { config, fileExists } = loadConfig({ env: { AGENTBOX_HOME: home.dir } });
    expect(fileExists).toBe(false);
    expect(config.sandbox.mode).toBe('workspace-write');
    expect(config.http.port).toBe(8765);
    expect(config.tools).toEqual(['files', 'shell', 'git', 'patch', 'delegate']);
  });

  it('layers defaults < file < environment < flags', () => {
    const env = withFile('log_level = "debug"\n[sandbox]\nmode = "read-only"\nnetwork = true\n[http]\nport = 9000\nhost = "127.0.0.1"\n');
    const fromFile = loadConfig({ env });
    expect(fromFile.config.sandbox.mode).toBe('read-only');
    expect(fromFile.config.sandbox.network).toBe(true);
    expect(fromFile.config.http.port).toBe(9000);
    expect(fromFile.sources.get('sandbox.mode')).toBe('file');

    const fromEnv = loadConfig({ env: { ...env, AGENTBOX_SANDBOX_MODE: 'danger-full-access', AGENTBOX_HTTP_PORT: '9100', AGENTBOX_TOOLS: 'files,git' } });
    expect(fromEnv.config.sandbox.mode).toBe('danger-full-access');
    expect(fromEnv.config.http.port).toBe(9100);
    expect(fromEnv.config.tools).toEqual(['files', 'git']);
    expect(fromEnv.config.log_level).toBe('debug'); // untouched keys keep the file's value

    const fromFlags = loadConfig({
      env: { ...env, AGENTBOX_SANDBOX_MODE: 'danger-full-access' },
      flags: flagsLayer({ sandbox: { mode: 'workspace-write' } }, { 'sandbox.mode': '--sandbox' }),
    });
    expect(fromFlags.config.sandbox.mode).toBe('workspace-write');
    expect(fromFlags.config.sandbox.network).toBe(true);
    expect(fromFlags.sources.get('sandbox.mode')).toBe('flags');
  });

  it('hides the usual credential paths by default; a file or AGENTBOX_SANDBOX_DENY_READ replaces the list', () => {
    home = tempDir('agentbox-home-');
    const defaults = loadConfig({ env: { AGENTBOX_HOME: home.dir } }).config.sandbox.deny_read;
    expect(defaults).toEqual(expect.arrayContaining(['~/.ssh', '~/.aws', '~/.gnupg', '~/.config/gh', '~/.netrc', '~/.git-credentials', '~/.docker/config.json', '~/.npmrc', '~/.pypirc', '~/.kube', '~/.config/gcloud', '~/.azure']));
    const env = withFile('[sandbox]\ndeny_read = ["~/.ssh", "/srv/secrets"]\n');
    expect(loadConfig({ env }).config.sandbox.deny_read).toEqual(['~/.ssh', '/srv/secrets']);
    expect(loadConfig({ env: { ...env, AGENTBOX_SANDBOX_DENY_READ: '~/.ssh, ~/.aws' } }).config.sandbox.deny_read).toEqual(['~/.ssh', '~/.aws']);
    expect(() => loadConfig({ env: { ...env, AGENTBOX_SANDBOX_DENY_READ: 'relative/path' } })).toThrow(
      /sandbox\.deny_read\[0\] = "relative\/path" \(from environment variable AGENTBOX_SANDBOX_DENY_READ\): expected an absolute path or one starting with ~\//,
    );
  });

  it('reads AGENTBOX_AUTH_TOKEN as http.auth_token', () => {
    home = tempDir('agentbox-home-');
    const { config } = loadConfig({ env: { AGENTBOX_HOME: home.dir, AGENTBOX_AUTH_TOKEN: 'a-long-enough-token-123' } });
    expect(config.http.auth_token).toBe('a-long-enough-token-123');
  });

  it('names the key, the bad value, its source and what is allowed', () => {
    const env = withFile('[sandbox]\nmode = "sandboxed"\n');
    expect(() => loadConfig({ env })).toThrow(ConfigError);
    try {
      loadConfig({ env });
    } catch (err) {
      const msg = (err as Error).message;
      expect(msg).toContain('sandbox.mode = "sandboxed"');
      expect(msg).toContain(home.path('config.toml'));
      expect(msg).toContain('"read-only", "workspace-write", "danger-full-access"');
    }
  });

  it('blames the environment variable when the bad value comes from it', () => {
    home = tempDir('agentbox-home-');
    expect(() => loadConfig({ env: { AGENTBOX_HOME: home.dir, AGENTBOX_HTTP_PORT: 'eighty' } })).toThrow(
      /http\.port = "eighty" \(from environment variable AGENTBOX_HTTP_PORT\): expected number/,
    );
  });

  it('rejects unknown keys and lists the allowed ones', () => {
    const env = withFile('[sandbox]\nmod = "read-only"\n');
    expect(() => loadConfig({ env })).toThrow(/unknown key sandbox\.mod .*allowed keys here: mode, network/);
  });

  it('names an array element by index and shows its value', () => {
    home = tempDir('agentbox-home-');
    expect(() => loadConfig({ env: { AGENTBOX_HOME: home.dir, AGENTBOX_TOOLS: 'files,shel' } })).toThrow(
      /tools\[1\] = "shel" \(from environment variable AGENTBOX_TOOLS\): expected one of "files", "shell"/,
    );
  });

  it('never echoes a secret value, even when it is invalid', () => {
    const env = withFile('[http]\nauth_token = "short-secret"\n');
    expect(() => loadConfig({ env })).toThrow(/http\.auth_token = \[redacted\]/);
    try {
      loadConfig({ env });
    } catch (err) {
      expect((err as Error).message).not.toContain('short-secret');
    }
  });

  it('warns about AGENTBOX_* variables that set nothing, suggesting the right name', () => {
    home = tempDir('agentbox-home-');
    const { warnings } = loadConfig({ env: { AGENTBOX_HOME: home.dir, AGENTBOX_NETWORK: 'true' } });
    expect(warnings).toEqual([expect.stringContaining('AGENTBOX_NETWORK sets nothing; did you mean AGENTBOX_SANDBOX_NETWORK?')]);
    const typo = loadConfig({ env: { AGENTBOX_HOME: home.dir, AGENTBOX_SANDBOX_MOD: 'read-only' } });
    expect(typo.warnings).toEqual([expect.stringContaining('did you mean AGENTBOX_SANDBOX_MODE?')]);
  });

  it('ignores __proto__ keys instead of polluting objects', () => {
    const env = withFile('[__proto__]\npolluted = "yes"\n');
    try {
      loadConfig({ env });
    } catch {
      // an unknown-key error is fine; pollution is not
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects a file that is not TOML', () => {
    const env = withFile('this is [not toml');
    expect(() => loadConfig({ env })).toThrow(/is not valid TOML/);
  });

  it('accepts model providers in Codex form', () => {
    const env = withFile('model = "qwen3"\nmodel_provider = "local"\n[model_providers.local]\nbase_url = "http://127.0.0.1:11434/v1"\nwire_api = "chat"\n');
    const { config } = loadConfig({ env });
    expect(config.model_providers.local?.wire_api).toBe('chat');
    expect(config.model_providers.local?.max_retries).toBe(4);
  });

  it('refuses timeouts beyond what a timer can wait (2^31 - 1 ms), which would fire at once', () => {
    for (const toml of ['[agent]\ntimeout_ms = 2147483648\n', 'approval_timeout_ms = 3000000000\n', '[model_providers.x]\nbase_url = "http://127.0.0.1:1/v1"\nrequest_timeout_ms = 2147483648\n']) {
      expect(() => loadConfig({ env: withFile(toml) }), toml).toThrow(/2147483647/);
      home.cleanup();
    }
    expect(loadConfig({ env: withFile('[agent]\ntimeout_ms = 2147483647\nmax_turns = 5\n') }).config.agent.timeout_ms).toBe(2_147_483_647);
    home.cleanup();
    expect(() => loadConfig({ env: withFile('[agent]\nmax_turns = 2.5\n') })).toThrow(ConfigError);
  });
});

describe('agentbox CLI start-up with bad configuration', () => {
  it('stops with exit code 2 and a message naming the key, value and allowed values', () => {
    const env = withFile('approval_policy = "sometimes"\n');
    const r = spawnSync(process.execPath, [CLI, 'serve', '--stdio'], { env: { ...process.env, ...env }, encoding: 'utf8', input: '' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('approval_policy = "sometimes"');
    expect(r.stderr).toContain('"never", "on-request", "untrusted"');
    expect(r.stdout).toBe('');
  });

  it('refuses to start when a --root directory does not exist', () => {
    home = tempDir('agentbox-home-');
    const r = spawnSync(process.execPath, [CLI, 'serve', '--stdio', '--root', '/does/not/exist'], {
      env: { ...process.env, AGENTBOX_HOME: home.dir },
      encoding: 'utf8',
      input: '',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('roots = "/does/not/exist" (from flag --root): expected an existing directory');
  });

  it('refuses to listen off loopback without an auth token', () => {
    home = tempDir('agentbox-home-');
    const r = spawnSync(process.execPath, [CLI, 'serve', '--http', '--host', '0.0.0.0', '--port', '0'], {
      env: { ...process.env, AGENTBOX_HOME: home.dir },
      encoding: 'utf8',
      timeout: 10_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('refusing to listen on 0.0.0.0 without an auth token');
  });

  it('doctor prints the configuration in force with sources and one line per check', () => {
    const env = withFile('[sandbox]\nnetwork = true\n');
    const out = execFileSync(process.execPath, [CLI, 'doctor', '--sandbox', 'read-only'], { env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(out).toContain('sandbox.mode = "read-only"  (flags)');
    expect(out).toContain('sandbox.network = true  (file)');
    expect(out).toMatch(/^ {2}(OK|WARN|FIX) +git: /m);
    expect(out).toMatch(/^ {2}(OK|WARN|FIX) +sandbox: /m);
    expect(out).toMatch(/^ {2}(OK|WARN) +model: /m);
  });
});
