import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { workers } from '../../lib/runtime/topology.ts';
import { bundleAll } from '../../infra/bundle.ts';
import { nodejsBundling } from '../../infra/bundling.ts';
import { allEntries } from '../../infra/entries.ts';
import { cfnId, defaultStack, synth } from './synth.ts';

type Props = Record<string, unknown>;

describe('Lambda functions', () => {
  const { stack, template } = defaultStack();
  const tableId = cfnId(stack, stack.table.table);
  const queueId = cfnId(stack, stack.commands.queue);
  const functions = template.findResources('AWS::Lambda::Function');
  const props = Object.values(functions).map((f) => f.Properties as Props);

  it('has one function per HTTP family, worker and scheduled function of the topology, and the command ingress', () => {
    expect(Object.keys(functions)).toHaveLength(allEntries.length);
    const own = [...Object.values(stack.httpFunctions), ...Object.values(stack.workerFunctions), ...Object.values(stack.scheduleFunctions), stack.commandIngress].map((fn) =>
      cfnId(stack, fn),
    );
    expect(own.sort()).toEqual(Object.keys(functions).sort());
  });

  it('runs every function on nodejs24.x on arm64 with the ESM bundle handler index.handler', () => {
    for (const p of props) {
      expect(p).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler' });
    }
  });

  it('builds the bundles for Node 20, so the code deployed on nodejs24.x also runs under the local Node 20', () => {
    expect(nodejsBundling.target).toBe('node20');
  });

  it('gives every function the table name, queue URL, node name and cluster name', () => {
    for (const p of props) {
      expect((p.Environment as { Variables: Props }).Variables).toMatchObject({
        TABLE_NAME: { Ref: tableId },
        COMMAND_QUEUE_URL: { Ref: queueId },
        NODE_NAME: 'mlplane-0',
        CLUSTER_NAME: 'mlplane',
      });
    }
  });

  it('takes the cluster and node names from the context', () => {
    const named = synth({ clusterName: 'prod-ml', nodeName: 'ml-node-1' }).template;
    const all = Object.values(named.findResources('AWS::Lambda::Function'));
    expect(all.length).toBe(allEntries.length);
    for (const f of all) {
      expect(f.Properties.Environment.Variables).toMatchObject({
        NODE_NAME: 'ml-node-1',
        CLUSTER_NAME: 'prod-ml',
      });
    }
  });

  it('enables source maps so stack traces point at the TypeScript sources', () => {
    for (const p of props) {
      expect((p.Environment as { Variables: Props }).Variables.NODE_OPTIONS).toContain('--enable-source-maps');
    }
  });

  it('ships source maps of positions and names without the sources text, which Node would read and parse at every cold start', async () => {
    expect(nodejsBundling).toMatchObject({ sourceMap: true, sourcesContent: false });
    const out = mkdtempSync(join(tmpdir(), 'mlplane-bundle-'));
    try {
      const [bundle] = await bundleAll(out, allEntries.slice(0, 1));
      const map = JSON.parse(readFileSync(`${bundle?.file}.map`, 'utf8')) as { sources: string[]; sourcesContent?: unknown };
      expect(map.sources.some((s) => s.endsWith('.ts'))).toBe(true);
      expect(map.sourcesContent).toBeUndefined();
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('logs every function to its own log group kept for one month', () => {
    const groups = template.findResources('AWS::Logs::LogGroup');
    const used = props.map((p) => (p.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref);
    expect(new Set(used).size).toBe(props.length);
    for (const id of used) expect(groups[id]?.Properties?.RetentionInDays).toBe(30);
  });

  it('sizes the worker from the topology and lets HTTP functions outlive the 28 s wait cap', () => {
    expect(functions[cfnId(stack, stack.workerFunctions.commands)]?.Properties).toMatchObject({
      Timeout: workers.commands.timeoutSeconds,
      MemorySize: workers.commands.memoryMiB,
    });
    for (const fn of Object.values(stack.httpFunctions)) {
      const timeout = functions[cfnId(stack, fn)]?.Properties?.Timeout as number;
      expect(timeout).toBeGreaterThan(28);
      expect(timeout).toBeLessThanOrEqual(30);
    }
  });
});
