import { pino, type Logger } from 'pino';

/**
 * The service logger: JSON lines on stderr (stdout carries only the `listening` line). Level from
 * `LOG_LEVEL` (default info). Secrets never reach it: callers log ids and codes, not tokens.
 */
export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, base: { service: name } }, pino.destination({ dest: 2, sync: false }));
}
