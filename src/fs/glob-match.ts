// One glob dialect for every search: ripgrep's and gitignore's conventions, applied in JS so that
// the ripgrep and the built-in paths agree. A pattern without "/" matches a file name at any depth
// ("*.ts"); with "/", the path relative to the search directory ("src/**/*.ts"); a leading "./"
// or "/" anchors at the search directory and is dropped.
import picomatch from 'picomatch';

export function normalizeGlob(pattern: string): string {
  return pattern.trim().replace(/^\.\//, '').replace(/^\/+/, '');
}

export function globMatcher(pattern: string): (relPath: string) => boolean {
  const normalized = normalizeGlob(pattern);
  return picomatch(normalized, { dot: true, basename: !normalized.includes('/') });
}

/** True for patterns that only look at the file name (no "/"). */
export function isNameGlob(pattern: string): boolean {
  return !normalizeGlob(pattern).includes('/');
}
