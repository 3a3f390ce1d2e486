import { describe, expect, it } from 'vitest';
import type { ApprovalPolicy } from '../../src/config/index.js';
import { approvalWithin, checkApproval, narrowForReply } from '../../src/agent/permissions.js';

const ALL: ApprovalPolicy[] = ['never', 'on-request', 'untrusted'];

describe('approval policies of a delegate', () => {
  it('allows only policies that need a yes for everything the server asks about and allow nothing it refuses', () => {
    const allowed = (server: ApprovalPolicy) => ALL.filter((p) => approvalWithin(p, server));
    expect(allowed('on-request')).toEqual(['never', 'on-request', 'untrusted']);
    expect(allowed('untrusted')).toEqual(['untrusted']);
    expect(allowed('never')).toEqual(['never']);
  });

  it('refuses a wider policy for a new run, saying why and what to use', () => {
    expect(checkApproval(undefined, 'untrusted')).toEqual({ ok: true, value: 'untrusted' });
    expect(checkApproval('never', 'on-request')).toEqual({ ok: true, value: 'never' });
    const silent = checkApproval('never', 'untrusted');
    expect(silent.ok).toBe(false);
    if (!silent.ok) {
      expect(silent.error.code).toBe('approval_too_permissive');
      expect(silent.error.message).toBe(
        'This server runs with approval_policy untrusted; a delegate cannot ask for never: it would run commands without asking that this server asks the user about.',
      );
      expect(silent.error.hint).toBe('Use untrusted, or leave approval_policy out (default: untrusted).');
    }
    const escalating = checkApproval('untrusted', 'never');
    expect(!escalating.ok && escalating.error.message).toContain('this server refuses every escalation');
  });
});

describe('a continued thread under the server it meets', () => {
  const id = 'T';
  it('keeps its own settings when the server allows them', () => {
    const r = narrowForReply(id, { mode: 'read-only', network: false, approval: 'untrusted' }, { mode: 'workspace-write', network: true, approval: 'on-request' });
    expect(r).toEqual({ ok: true, value: { mode: 'read-only', network: false, approval: 'untrusted', notes: [] } });
  });

  it('narrows sandbox mode, network and approval policy to the server\'s, saying so', () => {
    const r = narrowForReply(id, { mode: 'danger-full-access', network: true, approval: 'on-request' }, { mode: 'workspace-write', network: false, approval: 'never' });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value).toMatchObject({ mode: 'workspace-write', network: false, approval: 'never' });
    expect(r.value.notes).toEqual([
      'sandbox narrowed to workspace-write: the thread started with danger-full-access, and this server now runs with workspace-write.',
      'network access off: this server now runs without network in the sandbox.',
      'approval_policy narrowed to never: the thread started with on-request, and this server now runs with never.',
    ]);
  });

  it('refuses two approval policies neither of which is within the other', () => {
    for (const [stored, server] of [['never', 'untrusted'], ['untrusted', 'never']] as const) {
      const r = narrowForReply(id, { mode: 'workspace-write', network: false, approval: stored }, { mode: 'workspace-write', network: false, approval: server });
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('approval_conflict');
    }
  });
});
