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
    expect(run.cancel('timeout')).toBe(true);
    // A cancel during the timeout is not accepted: the caller must not be told "cancelled".
    expect(run.cancel('cancelled')).toBe(false);
    expect(run.cancel('timeout')).toBe(true);
    expect((run.signal.reason as StopReason).status).toBe('timeout');
    expect(run.step).toBe('timing out…');
  });

  it('refuses a cancel once its outcome is settled, and settle() says which cancel came first', () => {
    const cancelled = new Run('t', 1);
    expect(cancelled.cancel()).toBe(true);
    expect(cancelled.settle()?.status).toBe('cancelled');
    const settled = new Run('t', 2);
    expect(settled.settle()).toBeUndefined();
    expect(settled.cancel()).toBe(false);
    expect(settled.signal.aborted).toBe(false);
    expect(settled.step).toBe('starting');
  });

  it('nextChange resolves on a change, a timeout or an abort, and repeated waits leave no watcher behind', async () => {
    const run = new Run('t', 1);
    for (let i = 0; i < 50; i++) await run.nextChange(1);
    expect(run.watchers).toBe(0);
    const changed = run.nextChange(60_000);
    expect(run.watchers).toBe(1);
    run.update({ step: 'next' });
    await changed;
    const stop = new AbortController();
    const aborted = run.nextChange(60_000, stop.signal);
    stop.abort();
    await aborted;
    await run.nextChange(60_000, stop.signal); // already aborted: at once
    expect(run.watchers).toBe(0);
  });

  it('nextStep ignores bookkeeping and resolves when a step finishes or the run ends', async () => {
    const run = new Run('t', 1);
    let resolved = false;
    const waiting = run.nextStep(60_000).then(() => (resolved = true));
    run.update({ step: 'started thread t' });
    run.update({ usage: { input_tokens: 1, cached_input_tokens: 0, output_tokens: 1, reasoning_tokens: 0 }, plan: [] });
    await new Promise((r) => setTimeout(r, 20));
    expect(resolved).toBe(false);
    run.stepDone();
    await waiting;
    expect(run.watchers).toBe(0);
    const ending = run.nextStep(60_000);
    run.end();
    await ending;
    await run.nextStep(60_000); // already ended: at once
    expect(run.watchers).toBe(0);
  });
});
