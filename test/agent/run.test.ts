import { describe, expect, it } from 'vitest';
import { StopReason } from '../../src/agent/loop.js';
import { Run } from '../../src/agent/run.js';

describe('a run', () => {
  it('shows "cancelling…" as its step from the cancel until it ends', () => {
    const run = new Run('t', 1);
    run.update({ step: 'turn 3: exec_command `npm test`' });
    run.cancel();
    expect(run.signal.aborted).toBe(true);
    expect((run.signal.reason as StopReason).status).toBe('cancelled');
    expect(run.step).toBe('cancelling…');
    run.update({ step: 'command `npm test` exited with code 137', turns: 3 });
    expect(run.step).toBe('cancelling…');
    expect(run.turns).toBe(3);
    run.update({ status: 'cancelled' });
    expect(run.status).toBe('cancelled');
  });

  it('says "timing out…" when the timeout stopped it, and a second cancel changes nothing', () => {
    const run = new Run('t', 1);
    run.cancel('timeout');
    run.cancel('cancelled');
    expect((run.signal.reason as StopReason).status).toBe('timeout');
    expect(run.step).toBe('timing out…');
  });
});
