// The file tools' core: reading, listing, globbing and searching. No MCP here.
export { readFileForModel, looksBinary, statFailure, type ReadOutcome, type ReadLimits } from './read.js';
export { listDirectory } from './list.js';
export { globFiles, type GlobOutcome } from './glob.js';
export { grepFiles, type GrepOutcome, type GrepOptions } from './grep.js';
export { walkFiles } from './walk.js';
