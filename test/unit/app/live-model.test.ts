import { describe, expect, it } from 'vitest';
import { MIN_SUPPORTED_SNAPSHOT_VERSION, tooOldAsEs } from '../../../lib/app/live-model.ts';
import { AnomalyModel, ModelStateError } from '../../../lib/detect/index.ts';
import { StatusError } from '../../../lib/domain/errors.ts';
import type { JobConfig } from '../../../lib/domain/job/types.ts';
import type { JobRuntime } from '../../../lib/domain/state.ts';

const spec = {
  jobId: 'old-job',
  bucketSpanMs: 3_600_000,
  latencyMs: 0,
  detectors: [{ detector_index: 0, function: 'count' as const }],
  influencers: [],
  modelMemoryLimitBytes: 1 << 20,
};
const job = { job_id: 'old-job', model_snapshot_id: 'snap_1' } as JobConfig;
const rt = { model: { generation: 7, chunks: 1, bytes: 100 } } as unknown as JobRuntime;

/** A state of this model with its version byte set to `v`. */
function stateOfVersion(v: number): Uint8Array {
  const m = AnomalyModel.create(spec);
  m.ingest([{ timeMs: 0, fields: {} }]);
  const s = Buffer.from(m.serialize());
  s[0] = v;
  return s;
}

describe('restoring a model snapshot of an older model', () => {
  it('is refused with the error Elasticsearch gives for a snapshot before its minimum version', () => {
    let err: unknown;
    try {
      tooOldAsEs(job, rt, () => AnomalyModel.restore(spec, stateOfVersion(2)));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StatusError);
    const e = err as StatusError;
    expect(e.status).toBe(400);
    expect(e.type).toBe('status_exception');
    expect(e.message).toBe(
      `[old-job] job model snapshot [snap_1] has min version before [${MIN_SUPPORTED_SNAPSHOT_VERSION}], please revert to a newer model snapshot or reset the job`,
    );
  });

  it('names the state generation when the job has no snapshot id yet', () => {
    expect(() => tooOldAsEs({ job_id: 'old-job' } as JobConfig, rt, () => AnomalyModel.restore(spec, stateOfVersion(1)))).toThrow('job model snapshot [7] has min version before');
  });

  it('lets a damaged state of the current version through as the ModelStateError it is', () => {
    const whole = stateOfVersion(AnomalyModel.create(spec).serialize()[0] as number);
    expect(() => tooOldAsEs(job, rt, () => AnomalyModel.restore(spec, whole.subarray(0, whole.length - 2)))).toThrow(ModelStateError);
    expect(tooOldAsEs(job, rt, () => AnomalyModel.restore(spec, whole)).modelBytes()).toBe(whole.length);
  });
});
