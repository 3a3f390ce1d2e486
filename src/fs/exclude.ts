// Which search results lie in a path that is never searched (hidden and sandbox.deny_read paths),
// for grep and glob. Only the entries below the search directory can match, and usually there are
// none, so most searches pay nothing per file.
import path from 'node:path';
import { containingRoot, isInside } from '../sandbox/index.js';

/** A test for paths relative to `dir` (as rg and the walker print them): true when one lies in `exclude`. */
export function excludedFrom(dir: string, exclude: readonly string[] | undefined): (rel: string) => boolean {
  const below = (exclude ?? []).filter((e) => isInside(dir, e));
  if (below.length === 0) return () => false;
  return (rel) => containingRoot(below, path.join(dir, rel)) !== undefined;
}
