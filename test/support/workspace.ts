// Temporary workspaces for tests: a directory (optionally a git repository) with given files,
// removed after the test. Each test gets its own, so tests never share state.
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

export interface TempDir {
  dir: string;
  path(...parts: string[]): string;
  write(rel: string, content: string | Buffer): string;
  cleanup(): void;
}

/**
 * A fresh directory under `parent` (default: the system temp dir). Inside the sandbox, and for the
 * file tools, /tmp means the server's private temp dir: a directory meant to be "outside the
 * workspace" for a path check should live elsewhere, such as /var/tmp.
 */
export function tempDir(prefix = 'agentbox-test-', parent = os.tmpdir()): TempDir {
  const dir = realpathSync(mkdtempSync(path.join(parent, prefix)));
  return {
    dir,
    path: (...parts) => path.join(dir, ...parts),
    write(rel, content) {
      const file = path.join(dir, rel);
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, content);
      return file;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A git repository with an initial commit of `files`, and a fixed identity so commits work. */
export function tempRepo(files: Record<string, string> = { 'README.md': '# test\n' }, parent?: string): TempDir {
  const t = tempDir('agentbox-repo-', parent);
  for (const [rel, content] of Object.entries(files)) t.write(rel, content);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: t.dir, stdio: 'pipe' });
  git('init', '-q', '-b', 'main');
  git('config', 'user.name', 'Test');
  git('config', 'user.email', 'test@example.com');
  git('config', 'commit.gpgsign', 'false');
  git('add', '-A');
  git('commit', '-q', '-m', 'initial');
  return t;
}
