import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { BatchWriteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { StoredSizeLimitError } from '../../../lib/domain/errors.ts';
import { MAX_JOB_CONFIG_BYTES } from '../../../lib/domain/limits.ts';

process.env.TABLE_NAME = 'test-table';
process.env.COMMAND_QUEUE_URL = 'http://sqs.local/000000000000/commands.fifo';
process.env.HTTP_WAIT_CAP_MS = '50';
process.env.COMMAND_POLL_MS = '5';
const ddb = mockClient(DynamoDBDocumentClient);
const sqs = mockClient(SQSClient);
const { updateJob, applyUpdateCommand } = await import('../../../lib/app/update.ts');
const { putJob } = await import('../../../lib/app/put-job.ts');
const { putMlFilter, updateMlFilter } = await import('../../../lib/app/filters.ts');
const { updateClusterSettings } = await import('../../../lib/app/cluster.ts');
const { newJobRuntime } = await import('../../../lib/domain/state.ts');
const { buildJobConfig } = await import('../../../lib/domain/job/put-job.ts');
const { parseJsonBody } = await import('../../../lib/domain/json/plain-values.ts');

const JOB = { job_id: 'j', analysis_config: { bucket_span: '1h', detectors: [{ function: 'count' }] }, data_description: { time_field: 'timestamp' } };

/** Nothing was read, written or queued: the request was refused before any I/O. */
function expectNoIo(): void {
  expect(ddb.calls()).toHaveLength(0);
  expect(sqs.calls()).toHaveLength(0);
}

describe('a request whose content cannot be stored is refused before anything is queued', () => {
  beforeEach(() => {
    ddb.reset();
    sqs.reset();
  });

  it('an update with a 12 MB description is a 400 naming description and the limit, with no I/O', async () => {
    const err = await updateJob('j', JSON.stringify({ description: 'x'.repeat(12_000_000) })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoredSizeLimitError);
    expect((err as StoredSizeLimitError).toBody()).toMatchObject({
      status: 400,
      error: { type: 'illegal_argument_exception', reason: '[description] is too large: the job configuration would be [12000018] bytes, over the limit of [307200] bytes' },
    });
    expectNoIo();
  });

  it('an update with 500 KB of custom_settings is refused the same way', async () => {
    const custom_settings = Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`key_${i}`, 'v'.repeat(90)]));
    await expect(updateJob('j', JSON.stringify({ custom_settings }))).rejects.toThrow(/^\[custom_settings\] is too large: the job configuration would be/);
    expectNoIo();
  });

  it('a put job with a description over the limit is refused', async () => {
    await expect(putJob('j', JSON.stringify({ ...JOB, description: 'd'.repeat(MAX_JOB_CONFIG_BYTES) }))).rejects.toThrow(/^\[description\] is too large/);
    expectNoIo();
  });

  it('a put filter whose compressed items are over the limit is refused', async () => {
    const items = Array.from({ length: 3_000 }, () => randomBytes(150).toString('base64'));
    await expect(putMlFilter('f', JSON.stringify({ items }))).rejects.toThrow(/^\[items\] is too large: filter \[f\] would be \[\d+\] compressed bytes/);
    expectNoIo();
  });

  it('a filter id too long for its document is refused as Elasticsearch refuses indexing it', async () => {
    await expect(putMlFilter('a'.repeat(600), '{"items":["x"]}')).rejects.toThrow(`Error putting filter with id [${'a'.repeat(600)}]`);
    expectNoIo();
  });

  it('cluster settings whose value carries megabytes of blank space are refused', async () => {
    const body = JSON.stringify({ persistent: { 'xpack.ml.max_model_memory_limit': `${' '.repeat(1_000_000)}1gb` } });
    await expect(updateClusterSettings(body, false)).rejects.toThrow(/^\[persistent\.xpack\.ml\.max_model_memory_limit\] is too large: the cluster settings would be/);
    expectNoIo();
  });
});

describe('what only the stored state makes too large is refused before the write', () => {
  beforeEach(() => {
    ddb.reset();
    sqs.reset();
  });

  it('a filter update whose added items make the filter too large writes nothing', async () => {
    const existing = Array.from({ length: 1_800 }, () => randomBytes(150).toString('base64')).sort();
    ddb.on(GetCommand).resolves({ Item: { pk: 'filters', sk: 'filter#f', version: 1, doc: gzipSync(JSON.stringify({ filter_id: 'f', items: existing })) } });
    const add = Array.from({ length: 1_500 }, () => randomBytes(150).toString('base64'));
    await expect(updateMlFilter('f', JSON.stringify({ add_items: add }))).rejects.toThrow(/^\[items\] is too large: filter \[f\]/);
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
  });

  it('the HTTP side refuses an update whose merged job is too large before it queues anything', async () => {
    const source = JSON.stringify({ ...JOB, description: 'd'.repeat(200_000) });
    const stored = buildJobConfig('j', parseJsonBody(source), { nowMs: 0, source });
    ddb.on(GetCommand, { Key: { pk: 'jobs', sk: 'job#j' } }).resolves({ Item: { version: 3, config: JSON.stringify(stored) } });
    ddb.on(GetCommand, { Key: { pk: 'job#j', sk: 'state' } }).resolves({ Item: { version: 1, data: JSON.stringify(newJobRuntime('j', 0)) } });
    ddb.on(GetCommand, { Key: { pk: 'cluster', sk: 'settings' } }).resolves({});
    await expect(updateJob('j', JSON.stringify({ custom_settings: { notes: 'n'.repeat(150_000) } }))).rejects.toThrow(
      /^\[description\] is too large: the job configuration would be/,
    );
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect(sqs.calls()).toHaveLength(0);
  });

  it('the HTTP side leaves other merge failures to the worker, which reports them in the job order', async () => {
    const source = JSON.stringify(JOB);
    const stored = buildJobConfig('j', parseJsonBody(source), { nowMs: 0, source });
    ddb.on(GetCommand).resolves({});
    ddb.on(GetCommand, { Key: { pk: 'jobs', sk: 'job#j' } }).resolves({ Item: { version: 3, config: JSON.stringify(stored) } });
    ddb.on(GetCommand, { Key: { pk: 'job#j', sk: 'state' } }).resolves({ Item: { version: 1, data: JSON.stringify(newJobRuntime('j', 0)) } });
    ddb.on(GetCommand, { Key: { pk: 'cluster', sk: 'settings' } }).resolves({});
    ddb.on(PutCommand).resolves({});
    ddb.on(BatchWriteCommand).resolves({});
    sqs.on(SendMessageBatchCommand).resolves({});
    // Queued (the wait cap of this test is 50 ms, so the answer is a 202 task): the worker answers the bad index.
    expect(await updateJob('j', JSON.stringify({ detectors: [{ detector_index: 5, description: 'x' }] }))).toMatchObject({ kind: 'accepted' });
    expect(sqs.commandCalls(SendMessageBatchCommand)).toHaveLength(1);
  });

  it('the worker refuses an update whose merged job is too large (each part fits alone) and writes nothing', async () => {
    const source = JSON.stringify({ ...JOB, description: 'd'.repeat(200_000) });
    const stored = buildJobConfig('j', parseJsonBody(source), { nowMs: 0, source });
    ddb.on(GetCommand, { Key: { pk: 'jobs', sk: 'job#j' } }).resolves({ Item: { version: 3, config: JSON.stringify(stored) } });
    ddb.on(GetCommand, { Key: { pk: 'job#j', sk: 'state' } }).resolves({ Item: { version: 1, data: JSON.stringify(newJobRuntime('j', 0)) } });
    ddb.on(GetCommand, { Key: { pk: 'cluster', sk: 'settings' } }).resolves({});
    ddb.on(QueryCommand).resolves({ Items: [{ config: JSON.stringify(stored) }] });
    const custom_settings = { notes: 'n'.repeat(150_000) };
    await expect(applyUpdateCommand('j', JSON.stringify({ custom_settings }))).rejects.toThrow(
      /^\[description\] is too large: the job configuration would be \[\d+\] bytes, over the limit of \[307200\] bytes$/,
    );
    expect(ddb.commandCalls(PutCommand)).toHaveLength(0);
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(0);
  });
});
