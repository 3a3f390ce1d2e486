// Server logs go to stderr, never stdout: in stdio mode stdout carries JSON-RPC only.
// Secrets are redacted by key name before anything is written.
import { pino, type Logger as PinoLogger } from 'pino';
import type { LogLevel } from './config/index.js';

export type Logger = PinoLogger;

const REDACT = [
  'authorization',
  'auth_token',
  'api_key',
  'apiKey',
  'token',
  '*.authorization',
  '*.auth_token',
  '*.api_key',
  '*.apiKey',
  '*.token',
  'headers.authorization',
  'req.headers.authorization',
];

/** A logger that writes JSON lines to stderr (fd 2) synchronously, so nothing is lost on exit. */
export function createLogger(level: LogLevel = 'info', destination: number = 2): Logger {
  return pino(
    { level, base: { name: 'agentbox' }, redact: { paths: REDACT, censor: '[redacted]' } },
    pino.destination({ dest: destination, sync: true }),
  );
}
