// The sandbox's public surface: the policy value, the workspace roots and the path checks.
export { PROTECTED_NAMES, buildPolicy, expandDenyRead, type Policy, type PolicyInput } from './policy.js';
export { Workspace, type WorkspaceOptions } from './workspace.js';
export { isInside, containingRoot, protectedPart, resolveForRead, resolveForWrite, resolveEntryForWrite, type SafePath } from './paths.js';
export { buildBwrapArgs, toSandboxPath, SANDBOX_TMP, type BwrapSpec, type HostPaths, type ProtectedMount } from './bwrap.js';
export { existingRoots, findHiddenPaths, findHostPaths, findStaticHostPaths, findProtectedPaths, gitFileTarget, gitPointerTargets, hiddenPaths, WORKTREES_DIR } from './protected.js';
export { buildViewArgs, inSystemDirs, SYSTEM_DIRS, SYSTEM_FILES, type SystemEntry, type ViewPurpose, type ViewSpec } from './view.js';
export { ConfinedView, findGitConfig, sandboxProbe, type Launch, type ViewRequest } from './confined-view.js';
export { filterEnv, isSecretName, withheldSecretNames, CORE_ENV_NAMES, SECRET_NAME_PATTERNS, type EnvPolicy } from './env.js';
export { probeSandbox, explainBwrapFailure, sandboxChecks, BWRAP_INSTALL_FIX, type SandboxCheck, type SandboxFacts, type SandboxProbe } from './doctor.js';
export { keyringSeccompFilter } from './seccomp.js';
export { TtlMemo } from './memo.js';
