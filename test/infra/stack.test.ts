import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { defaultStack } from './synth.ts';

interface ValidationReport {
  pluginReports: Array<{ pluginName: string; violations: Array<{ ruleName: string; description: string }> }>;
}

describe('stack', () => {
  const { stack, outdir } = defaultStack();

  it('synthesizes without error or warning annotations', () => {
    const annotations = Annotations.fromStack(stack);
    expect(annotations.findError('*', Match.anyValue())).toEqual([]);
    expect(annotations.findWarning('*', Match.anyValue())).toEqual([]);
  });

  it('passes the CloudFormation validation of the synth with no unacknowledged violation', () => {
    const file = join(outdir, 'validation-report.json');
    expect(existsSync(file)).toBe(true);
    const report = JSON.parse(readFileSync(file, 'utf8')) as ValidationReport;
    const violations = report.pluginReports.flatMap((p) => p.violations.map((v) => `${p.pluginName} ${v.ruleName}: ${v.description}`));
    expect(violations).toEqual([]);
  });
});
