/**
 * Synthesizes the mlplane stack for the assertion tests: the feature flags of `cdk.json`,
 * bundling skipped (`aws:cdk:bundling-stacks: []`), and helpers that read the template.
 *
 * `NodejsFunction` requires its entry files to exist even when bundling is skipped. When
 * some `functions/` entries are not written yet, the stack is built over a temporary
 * project root holding stubs of them, so these tests check the template, not the handlers.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { App, CfnElement, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IConstruct } from 'constructs';
import { allEntries, missingEntries, projectRoot } from '../../infra/entries.ts';
import { MlplaneStack, type MlplaneStackProps } from '../../infra/stack.ts';

const cdkJson = JSON.parse(readFileSync(join(projectRoot, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };

let stubRoot: string | undefined;
/** The repository when every entry exists, else a temporary root with stub entries. */
function entriesRoot(): string {
  if (missingEntries().length === 0) return projectRoot;
  if (!stubRoot) {
    stubRoot = mkdtempSync(join(tmpdir(), 'mlplane-infra-'));
    writeFileSync(join(stubRoot, 'package-lock.json'), '{}\n');
    for (const e of allEntries) {
      const file = join(stubRoot, e.relativePath);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, 'export const handler = async () => undefined;\n');
    }
  }
  return stubRoot;
}

/** A synthesized stack and its template. */
export interface Synthesized {
  stack: MlplaneStack;
  template: Template;
  /** The cloud assembly folder (template, validation report). */
  outdir: string;
}

/** Builds the stack in a fresh app with `context` over the `cdk.json` context, and `props`. */
export function synth(context: Record<string, unknown> = {}, props: Omit<MlplaneStackProps, 'projectRoot'> = {}): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'mlplane-cdk-out-'));
  const app = new App({
    outdir,
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], ...context },
  });
  const stack = new MlplaneStack(app, 'Mlplane', { ...props, projectRoot: entriesRoot() });
  return { stack, template: Template.fromStack(stack), outdir };
}

let cached: Synthesized | undefined;
/** The stack with the default context, synthesized once per test file. */
export function defaultStack(): Synthesized {
  cached ??= synth();
  return cached;
}

/** The logical id of the CloudFormation resource behind an L2 construct (its `defaultChild`). */
export function cfnId(stack: Stack, construct: IConstruct): string {
  const child = construct.node.defaultChild;
  if (!(child instanceof CfnElement)) throw new Error(`${construct.node.path} has no CloudFormation resource`);
  return stack.getLogicalId(child);
}

/** The logical id of a function's execution role. */
export function roleLogicalId(stack: Stack, fn: IFunction): string {
  if (!fn.role) throw new Error(`${fn.node.path} has no role`);
  return cfnId(stack, fn.role);
}

/** One IAM statement granted to a role, with its actions as a list. */
export interface Grant {
  effect: string;
  actions: string[];
  resources: unknown[];
}

/** Every statement of the identity policies attached to the role `roleId`. */
export function grantsOf(template: Template, roleId: string): Grant[] {
  const policies = template.findResources('AWS::IAM::Policy');
  const out: Grant[] = [];
  for (const policy of Object.values(policies)) {
    const props = policy.Properties as {
      Roles?: unknown[];
      PolicyDocument: { Statement: Array<{ Effect: string; Action: string | string[]; Resource: unknown }> };
    };
    const attached = (props.Roles ?? []).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId }));
    if (!attached) continue;
    for (const s of props.PolicyDocument.Statement) {
      out.push({
        effect: s.Effect,
        actions: Array.isArray(s.Action) ? s.Action : [s.Action],
        resources: Array.isArray(s.Resource) ? s.Resource : [s.Resource],
      });
    }
  }
  return out;
}

/** The allowed actions of the role `roleId`. */
export function allowedActions(template: Template, roleId: string): Set<string> {
  return new Set(
    grantsOf(template, roleId)
      .filter((g) => g.effect === 'Allow')
      .flatMap((g) => g.actions),
  );
}
