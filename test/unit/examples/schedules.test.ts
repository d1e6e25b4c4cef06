import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../../infra/entries.ts';
import { nextFireTime } from '../../../lib/domain/schedule-expression.ts';
import { readSchedulesFile } from '../../../lib/runtime/schedules-file.ts';

describe('examples/schedules.json', () => {
  const schedules = readSchedulesFile(join(projectRoot, 'examples', 'schedules.json'));
  const byName = Object.fromEntries(schedules.map((s) => [s.name, s]));
  const next = (name: string, after: string) => new Date(nextFireTime({ expression: byName[name]!.parsed, timeZone: byName[name]!.timezone }, Date.parse(after))!).toISOString();

  it('stops every datafeed at 01:45 UTC, before the backup', () => {
    expect(byName['stop-datafeeds-before-backup']!.command).toMatchObject({ method: 'POST', path: '/_ml/datafeeds/_all/_stop' });
    expect(next('stop-datafeeds-before-backup', '2026-07-01T00:00:00Z')).toBe('2026-07-01T01:45:00.000Z');
  });

  it('closes nightly-* at 02:00 Europe/Berlin (00:00 UTC in summer, 01:00 in winter)', () => {
    expect(byName['close-nightly-jobs']!.command).toMatchObject({ method: 'POST', path: '/_ml/anomaly_detectors/nightly-*/_close' });
    expect(next('close-nightly-jobs', '2026-07-01T00:30:00Z')).toBe('2026-07-02T00:00:00.000Z');
    expect(next('close-nightly-jobs', '2026-01-01T00:30:00Z')).toBe('2026-01-01T01:00:00.000Z');
  });

  it('turns upgrade mode on at 03:00 and off at 03:30 Europe/Berlin', () => {
    expect(byName['upgrade-mode-on']!.command).toMatchObject({ method: 'POST', path: '/_ml/set_upgrade_mode', query: { enabled: true } });
    expect(byName['upgrade-mode-off']!.command).toMatchObject({ method: 'POST', path: '/_ml/set_upgrade_mode', query: { enabled: false } });
    expect(next('upgrade-mode-on', '2026-01-01T00:00:00Z')).toBe('2026-01-01T02:00:00.000Z');
    expect(next('upgrade-mode-off', '2026-01-01T00:00:00Z')).toBe('2026-01-01T02:30:00.000Z');
  });
});
