// The file tools' core: reading, listing, globbing, searching, and writing and editing text files. No MCP here.
export { readFileForModel, looksBinary, statFailure, type ReadOutcome, type ReadLimits } from './read.js';
export { listDirectory } from './list.js';
export { globFiles, type GlobOutcome } from './glob.js';
export { grepFiles, type GrepOutcome, type GrepOptions } from './grep.js';
export { walkFiles } from './walk.js';
export * as confined from './confined.js';
export { changedMeanwhile, RACED } from './confined.js';
export { ripgrepLauncher, type RipgrepLauncher } from './ripgrep.js';
export {
  writeTextFile,
  writeFileAtomic,
  tempNameFor,
  assertUnchanged,
  makeParents,
  writeFailure,
  namesDirectory,
  refuseDirectoryPath,
  CHANGED,
  type WriteOutcome,
  type AtomicWriteOptions,
  type OnDisk,
  type TempRecord,
} from './write.js';
export { FileLocks, fileLocks } from './lock.js';
export { editFile, planEdit, type EditRequest, type EditOutcome, type PlannedEdit } from './edit.js';
export {
  splitText,
  joinText,
  decodeText,
  encodeText,
  readTextFile,
  MAX_EDIT_BYTES,
  type TextLines,
  type TextFile,
  type Eol,
  type LineEnding,
} from './text.js';
