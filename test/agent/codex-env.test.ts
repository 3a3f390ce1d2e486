import { afterEach, describe, expect, it } from 'vitest';
import { codexConfigCredentials, codexProcessEnv, codexShellEnvConfig, type CodexEnvPolicy } from '../../src/agent/codex-env.js';
import { tempDir, type TempDir } from '../support/workspace.js';

const SERVER = {
  PATH: '/usr/bin',
  HOME: '/home/me',
  LANG: 'C.UTF-8',
  PLAIN: 'plain',
  OPENAI_API_KEY: 'sk-openai',
  MOCK_API_KEY: 'mock-key',
  GITHUB_TOKEN: 'ghp-secret',
  NPM_TOKEN: 'npm-secret',
  AGENTBOX_AUTH_TOKEN: 'agentbox-token',
  AGENTBOX_HOME: '/home/me/.agentbox',
};
const POLICY: CodexEnvPolicy = {
  include: ['NPM_TOKEN', 'NPM_*', 'PLAIN'],
  set: { SET_PLAIN: 'a "quoted"\nvalue', SET_SECRET: 'set-secret' },
  credentials: ['OPENAI_API_KEY', 'CODEX_API_KEY', 'MOCK_API_KEY'],
};

/** The value of one `-c shell_environment_policy.<key>=…` argument. */
const setting = (args: string[], key: string) => args.find((a) => a.startsWith(`shell_environment_policy.${key}=`))?.slice(`shell_environment_policy.${key}=`.length);

describe('codexProcessEnv', () => {
  it('gives Codex its credentials and the exactly included secrets, never AGENTBOX_* or other secrets', () => {
    expect(codexProcessEnv(SERVER, POLICY)).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/me',
      LANG: 'C.UTF-8',
      PLAIN: 'plain',
      OPENAI_API_KEY: 'sk-openai',
      MOCK_API_KEY: 'mock-key',
      NPM_TOKEN: 'npm-secret',
      SET_SECRET: 'set-secret',
    });
  });
});

describe('codexShellEnvConfig', () => {
  const args = codexShellEnvConfig(codexProcessEnv(SERVER, POLICY), POLICY);

  it('excludes, by exact name, every secret Codex holds that the commands must not get', () => {
    expect(args.filter((a) => a === '-c')).toHaveLength(args.length / 2);
    expect(setting(args, 'inherit')).toBe('"all"');
    expect(setting(args, 'ignore_default_excludes')).toBe('true');
    expect(JSON.parse(setting(args, 'exclude')!)).toEqual(['AGENTBOX_*', 'OPENAI_API_KEY', 'MOCK_API_KEY']);
  });

  it('keeps the commands to the core names, include and set, with secret-looking set values off the command line', () => {
    const only = JSON.parse(setting(args, 'include_only')!) as string[];
    expect(only).toEqual(expect.arrayContaining(['PATH', 'HOME', 'LC_*', 'TMPDIR', 'NPM_TOKEN', 'NPM_*', 'PLAIN', 'SET_PLAIN', 'SET_SECRET']));
    expect(setting(args, 'set')).toBe('{"SET_PLAIN"="a \\"quoted\\"\\nvalue"}');
    expect(args.join(' ')).not.toContain('set-secret');
  });
});

describe('codexConfigCredentials', () => {
  let dir: TempDir | undefined;
  afterEach(() => dir?.cleanup());

  it('reads env_key and env_http_headers of every provider in $CODEX_HOME/config.toml', () => {
    dir = tempDir();
    dir.write('config.toml', '[model_providers.a]\nenv_key = "A_KEY"\n[model_providers.b]\nenv_http_headers = { "X-Org" = "B_ORG_TOKEN" }\n');
    expect(codexConfigCredentials({ CODEX_HOME: dir.dir })).toEqual(['A_KEY', 'B_ORG_TOKEN']);
    expect(codexConfigCredentials({ CODEX_HOME: dir.path('missing') })).toEqual([]);
    dir.write('.codex/config.toml', '[model_providers.c]\nenv_key = "C_KEY"\n');
    expect(codexConfigCredentials({ HOME: dir.dir })).toEqual(['C_KEY']);
  });
});
