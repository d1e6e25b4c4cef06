import { afterEach, describe, expect, it } from 'vitest';
import { config, resetConfig } from '../../../lib/runtime/config.ts';
import { logLevel, renderLine } from '../../../lib/runtime/log.ts';

const base = { TABLE_NAME: 't', COMMAND_QUEUE_URL: 'q' };
afterEach(() => resetConfig());

describe('LOG_LEVEL', () => {
  it('defaults to info and accepts the known levels', () => {
    expect(logLevel({})).toBe('info');
    for (const l of ['debug', 'info', 'warn', 'error', 'silent']) expect(logLevel({ LOG_LEVEL: l })).toBe(l);
  });

  it('is an error when unknown, not silently info', () => {
    expect(() => logLevel({ LOG_LEVEL: 'verbose' })).toThrow('LOG_LEVEL must be one of debug, info, warn, error, silent; got "verbose"');
    expect(() => config({ ...base, LOG_LEVEL: 'verbose' })).toThrow(/LOG_LEVEL .*got "verbose"/);
    expect(() => config({ ...base, LOG_FORMAT: 'xml' })).toThrow(/LOG_FORMAT/);
    expect(config({ ...base, LOG_LEVEL: 'debug' }).tableName).toBe('t');
  });
});

describe('log lines', () => {
  const t = new Date('2026-01-02T03:04:05.678Z');
  it('are one JSON object in json format', () => {
    expect(JSON.parse(renderLine('json', 'info', 'GET / 200 3ms', { http: { status: 200 }, user: 'elastic' }, t))).toEqual({
      level: 'info',
      message: 'GET / 200 3ms',
      time: '2026-01-02T03:04:05.678Z',
      http: { status: 200 },
      user: 'elastic',
    });
  });

  it('read as text for people, without repeating the access details', () => {
    expect(renderLine('text', 'info', 'GET / 200 3ms', { http: { status: 200 }, user: 'elastic', params: 'pretty' }, t)).toBe(
      '2026-01-02T03:04:05.678Z INFO  GET / 200 3ms user=elastic params=pretty',
    );
    expect(renderLine('text', 'debug', 'request rejected', { reason: 'a b' }, t)).toBe('2026-01-02T03:04:05.678Z DEBUG request rejected reason="a b"');
  });
});
