// The sandbox's public surface: the policy value, the workspace roots and the path checks.
export { PROTECTED_NAMES, buildPolicy, type Policy, type PolicyInput } from './policy.js';
export { Workspace, type WorkspaceOptions } from './workspace.js';
export { isInside, containingRoot, protectedPart, resolveForRead, resolveForWrite, type SafePath } from './paths.js';
