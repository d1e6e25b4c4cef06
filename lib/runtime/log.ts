/**
 * Structured JSON logging to stdout (CloudWatch Logs in AWS). `LOG_LEVEL` = debug|info|warn|error|silent
 * (default info). Errors are serialised with their name, message and stack.
 */
type Level = 'debug' | 'info' | 'warn' | 'error';
const order: Record<Level | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

function threshold(): number {
  const l = (process.env.LOG_LEVEL ?? 'info') as Level | 'silent';
  return order[l] ?? order.info;
}

function emit(level: Level, message: string, fields: Record<string, unknown> = {}): void {
  if (order[level] < threshold()) return;
  const out: Record<string, unknown> = { level, message, time: new Date().toISOString() };
  for (const [k, v] of Object.entries(fields)) out[k] = v instanceof Error ? { name: v.name, message: v.message, stack: v.stack } : v;
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

export const logger = {
  debug: (m: string, f?: Record<string, unknown>) => emit('debug', m, f),
  info: (m: string, f?: Record<string, unknown>) => emit('info', m, f),
  warn: (m: string, f?: Record<string, unknown>) => emit('warn', m, f),
  error: (m: string, f?: Record<string, unknown>) => emit('error', m, f),
};
