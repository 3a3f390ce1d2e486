// Finds an executable on PATH without spawning anything, so start-up and tool calls never pay
// for a subprocess probe.
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';

export function which(name: string, envPath: string | undefined = process.env.PATH): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? path.resolve(name) : undefined;
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}
