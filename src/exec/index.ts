// The exec layer's public surface: running commands in the sandbox as shell sessions.
export {
  execCommand,
  killSession,
  listSessions,
  sessionTableFor,
  writeStdin,
  SessionTable,
  POLL_MAX_MS,
  POLL_YIELD_DEFAULT_MS,
  WRITE_YIELD_DEFAULT_MS,
  YIELD_DEFAULT_MS,
  YIELD_MAX_MS,
  YIELD_MIN_MS,
  type ExecRequest,
  type SessionSummary,
  type StdinRequest,
} from './command.js';
export { formatReport, type ExecReport } from './format.js';
export { ExecHost } from './host.js';
export { decideApproval, approvalMessage, approvalOutcome, type ApprovalDecision, type ApprovalInput } from './approval.js';
export { isKnownReadOnly, splitCommand } from './safe-commands.js';
export { HeadTailBuffer, shapeForModel, truncateForModel, CAPTURE_BYTES, type ModelOutput } from './output.js';
export { rlimitPrefix, type ResourceLimits } from './rlimits.js';
export { CommandCgroups, CommandCgroup, type CgroupLimits, type Controller } from './cgroups.js';
export { shellArgs, type ScriptOptions } from './script.js';
export { startChild, KILL_GRACE_MS, type Child, type Exit, type SpawnSpec } from './process.js';
export { TIMEOUT_EXIT_CODE } from './session.js';
