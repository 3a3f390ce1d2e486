import { describe, expect, it } from 'vitest';
import { filterEnv, isSecretName, withheldSecretNames, type EnvPolicy } from '../../src/sandbox/index.js';

const base: EnvPolicy = { include: [], set: {}, sandbox: 'workspace-write', network: false, tmpDir: '/tmp', term: 'dumb' };

const server = {
  PATH: '/usr/bin:/bin',
  HOME: '/home/u',
  USER: 'u',
  SHELL: '/bin/bash',
  LANG: 'en_US.UTF-8',
  LC_ALL: 'C.UTF-8',
  TERM: 'xterm',
  OPENAI_API_KEY: 'sk-1',
  GITHUB_TOKEN: 'ghp',
  AWS_SECRET_ACCESS_KEY: 'aws',
  DB_PASSWORD: 'pw',
  GOOGLE_APPLICATION_CREDENTIALS: '/k.json',
  SSH_AUTH_SOCK: '/run/ssh',
  NPM_TOKEN: 'npm',
  NPM_CONFIG_REGISTRY: 'https://r',
  EDITOR: 'vim',
  TMPDIR: '/var/folders/x',
};

describe('filterEnv', () => {
  it('passes only the core names by default, plus agentbox markers', () => {
    expect(filterEnv(server, base)).toEqual({
      PATH: '/usr/bin:/bin',
      HOME: '/home/u',
      USER: 'u',
      SHELL: '/bin/bash',
      LANG: 'en_US.UTF-8',
      LC_ALL: 'C.UTF-8',
      TERM: 'dumb',
      TMPDIR: '/tmp',
      SHLVL: '1',
      NO_COLOR: '1',
      PAGER: 'cat',
      GIT_PAGER: 'cat',
      AGENTBOX_SANDBOX: 'workspace-write',
      AGENTBOX_SANDBOX_NETWORK_DISABLED: '1',
    });
  });

  it.each([
    ['a glob does not let a secret-looking name through', ['NPM_*'], ['NPM_CONFIG_REGISTRY'], ['NPM_TOKEN']],
    ['an exact name lets a secret through', ['NPM_TOKEN'], ['NPM_TOKEN'], ['NPM_CONFIG_REGISTRY']],
    ['names match case-insensitively', ['editor'], ['EDITOR'], []],
    ['a star does not pass secrets', ['*'], ['EDITOR', 'NPM_CONFIG_REGISTRY'], ['OPENAI_API_KEY', 'GITHUB_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'DB_PASSWORD', 'GOOGLE_APPLICATION_CREDENTIALS', 'SSH_AUTH_SOCK', 'NPM_TOKEN']],
  ])('%s', (_title, include, present, absent) => {
    const env = filterEnv(server, { ...base, include });
    for (const name of present) expect(env[name], name).toBe(server[name as keyof typeof server]);
    for (const name of absent) expect(env[name], name).toBeUndefined();
  });

  it('lets `set` override everything but AGENTBOX_SANDBOX', () => {
    const env = filterEnv(server, { ...base, set: { PAGER: 'less', FOO: 'bar', AGENTBOX_SANDBOX: 'none', API_TOKEN: 'explicit' } });
    expect(env).toMatchObject({ PAGER: 'less', FOO: 'bar', AGENTBOX_SANDBOX: 'workspace-write', API_TOKEN: 'explicit' });
  });

  it('marks the network as disabled only when it is', () => {
    expect(filterEnv(server, { ...base, network: true }).AGENTBOX_SANDBOX_NETWORK_DISABLED).toBeUndefined();
  });

  it('gives a default PATH when the server has none', () => {
    expect(filterEnv({}, base).PATH).toContain('/usr/bin');
  });
});

describe('isSecretName', () => {
  it.each(['OPENAI_API_KEY', 'api_key', 'GH_TOKEN', 'MY_SECRET', 'PGPASSWORD', 'AWS_SHARED_CREDENTIALS_FILE', 'GPG_PASSPHRASE', 'SSH_AUTH_SOCK'])('%s looks secret', (n) => {
    expect(isSecretName(n)).toBe(true);
  });
  it.each(['PATH', 'HOME', 'LANG', 'EDITOR', 'NODE_ENV'])('%s does not', (n) => {
    expect(isSecretName(n)).toBe(false);
  });
  it('lists the withheld names for doctor, without values', () => {
    expect(withheldSecretNames({ A_TOKEN: 'x', PATH: '/bin', B_KEY: 'y' }, ['B_KEY'])).toEqual(['A_TOKEN']);
  });
});
