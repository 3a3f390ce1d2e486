// Expected failures are values a model can act on, not exceptions: the core returns
// `{ ok: false, error: { code, message, hint } }` and the tool turns it into an `isError` result.
// Throw only for bugs.

/** A failure that says what was wrong and, in `hint`, what to do about it. */
export interface Failure {
  code: string;
  message: string;
  hint?: string;
}

export type Result<T, E = Failure> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): { ok: true; value: T } => ({ ok: true, value });

export const fail = (code: string, message: string, hint?: string): { ok: false; error: Failure } => ({
  ok: false,
  error: hint === undefined ? { code, message } : { code, message, hint },
});

/** Renders a failure for a model: the message, then the hint on its own line. */
export function formatFailure(error: Failure): string {
  return error.hint ? `${error.message}\n${error.hint}` : error.message;
}
