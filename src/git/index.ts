// The git core's public surface: open a repository (checked against the path policy), then read
// or change it. Every git command runs with hooks, network and program-running config switched
// off as settings.ts describes. No MCP here; tools/git.ts and the delegate call these.
export { gitSettings, gitEnv, safeConfig, parseScopedConfig, includedFiles, repoConfigOverrides, type GitSettings, type ScopedEntry } from './settings.js';
export { sandboxCanWrite, checkLayout, checkProtected, type Layout, type Located } from './confine.js';
export { classifyGitError } from './errors.js';
export { openRepo, resolvePathspecs, checkRevision, type Repo, type GitContext, type Access } from './repo.js';
export { getStatus, parseStatus, formatStatus, operationInProgress, type RepoStatus, type StatusEntry, type Operation } from './status.js';
export { diffText, showText, describeDiff, parseNumstat, type DiffRequest, type TextOutcome, type NumstatEntry } from './diff.js';
export { getLog, parseLog, fitLog, formatLog, type LogCommit, type LogResult, type LogRequest } from './log.js';
export {
  listBranches,
  parseBranches,
  formatBranches,
  createBranch,
  checkout,
  resolveCommit,
  type BranchInfo,
  type BranchList,
  type CreatedBranch,
  type CheckoutResult,
} from './branch.js';
export { addPaths, resetPaths, commit, formatCommit, parseNameStatus, parseCommitInfo, type CommitResult, type ResetResult } from './commit.js';
export {
  addWorktree,
  removeWorktree,
  listWorktrees,
  worktreePathOf,
  parseWorktrees,
  formatWorktrees,
  type WorktreeInfo,
  type AddWorktreeOptions,
  type AddedWorktree,
  type RemoveWorktreeOptions,
  type RemovedWorktree,
} from './worktree.js';
export { workingTreeChanges, changedFiles, parseChanges, type ChangedFile, type WorkingTreeChanges, type ChangesOptions } from './changes.js';
