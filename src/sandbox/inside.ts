// Path containment, pure: the one comparison every path rule is built on (re-exported by paths.ts).
import path from 'node:path';

/** True when `candidate` is `root` or lies below it. Both must be absolute and normalised. */
export function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel));
}

/** The allowed root that contains `candidate`, if any. */
export function containingRoot(roots: readonly string[], candidate: string): string | undefined {
  return roots.find((root) => isInside(root, candidate));
}
