/**
 * The README's walk-through, run as a reader runs it: every fenced block that holds curl
 * commands, in order, each command through bash with `ES` and `AUTH` set, against a system
 * started fresh for this file (its own DynamoDB Local and queues, like a fresh `npm start`),
 * so the README's cluster settings, job and filter ids cannot clash with the other
 * integration files, which share the globalSetup system.
 *
 * Each command's expectation is read from its trailing comment: `# → 404 …` expects that
 * HTTP status, `# → 200 {"closed":true} …` also expects the answer to contain that JSON;
 * without such a comment the command must answer 200.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalSystem, type LocalSystem } from '../../lib/local/system.ts';

const run = promisify(execFile);

/** One curl example of the README and what it must answer. */
interface Example {
  /** 1-based number of the fenced block among the README's curl blocks. */
  block: number;
  /** 1-based line of the README where the command starts. */
  line: number;
  /** The command as written, continuation lines included, without its trailing comment. */
  command: string;
  /** Expected HTTP status (200 unless the comment says `→ <status>`). */
  status: number;
  /** JSON the answer must contain, when the comment gives one after the status. */
  body?: unknown;
}

/**
 * Ends of the shell commands in `text` (a fenced block's body): a command ends at a newline
 * outside quotes that no backslash escapes. Returns, per command, where it starts, its code
 * (without its trailing comment) and the comment (from an unquoted `#` that starts a word). Knows '…', $'…' (backslash escapes),
 * "…" and backslash-newline, which is all the README's examples use.
 */
function shellCommands(text: string): { start: number; code: string; comment: string }[] {
  const out: { start: number; code: string; comment: string }[] = [];
  let start = 0;
  let commentAt: number | undefined;
  let comment = '';
  let state: 'plain' | 'single' | 'dollar' | 'double' | 'comment' = 'plain';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (state === 'comment') {
      if (c === '\n') state = 'plain';
      else comment += c;
      if (c !== '\n') continue;
    } else if (state === 'single') {
      if (c === "'") state = 'plain';
      continue;
    } else if (state === 'dollar' || state === 'double') {
      if (c === '\\') i++;
      else if ((state === 'dollar' && c === "'") || (state === 'double' && c === '"')) state = 'plain';
      continue;
    } else if (c === '\\') {
      i++;
      continue;
    } else if (c === "'") {
      state = text[i - 1] === '$' ? 'dollar' : 'single';
      continue;
    } else if (c === '"') {
      state = 'double';
      continue;
    } else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      state = 'comment';
      commentAt = i;
      comment = '#';
      continue;
    }
    if (c === '\n') {
      out.push({ start, code: text.slice(start, commentAt ?? i), comment });
      start = i + 1;
      commentAt = undefined;
      comment = '';
    }
  }
  if (state !== 'plain' && state !== 'comment') throw new Error(`unterminated quote in: ${text.slice(start)}`);
  if (text.slice(start).trim() !== '') out.push({ start, code: text.slice(start, commentAt), comment });
  return out;
}

/** The JSON object that `text` starts with (`{…}`, strings respected), or undefined when it starts otherwise. */
function leadingJson(text: string): unknown {
  if (!text.startsWith('{')) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return JSON.parse(text.slice(0, i + 1));
  }
  throw new Error(`unbalanced JSON in the expectation: ${text}`);
}

/**
 * Every curl command of `markdown`'s fenced blocks, in order, with its expectation.
 * @throws Error naming the line when a block that has curl commands holds another command
 *   (the test could not run it as the reader would), or an expectation's JSON does not parse
 */
function readmeExamples(markdown: string): Example[] {
  const lines = markdown.split('\n');
  const examples: Example[] = [];
  let block = 0;
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i]!.startsWith('```')) continue;
    const end = lines.findIndex((l, j) => j > i && l.startsWith('```'));
    if (end < 0) throw new Error(`README line ${i + 1}: unclosed code fence`);
    const body = lines.slice(i + 1, end).join('\n');
    const firstLine = i + 2;
    i = end;
    if (!/^\s*curl /m.test(body)) continue;
    block++;
    for (const cmd of shellCommands(body)) {
      const line = firstLine + body.slice(0, cmd.start).split('\n').length - 1;
      const command = cmd.code.trim();
      if (command === '') continue;
      if (!command.startsWith('curl ')) throw new Error(`README line ${line}: a curl block holds a command that is not curl: ${command}`);
      const m = /^#\s*→\s*(\d{3})\b\s*(.*)$/.exec(cmd.comment.trim());
      const status = m ? Number(m[1]) : 200;
      let expectedBody: unknown;
      try {
        expectedBody = m ? leadingJson(m[2]!) : undefined;
      } catch (err) {
        throw new Error(`README line ${line}: the expected answer ${JSON.stringify(m![2])} is not JSON (${(err as Error).message})`);
      }
      examples.push({ block, line, command, status, ...(expectedBody === undefined ? {} : { body: expectedBody }) });
    }
  }
  return examples;
}

describe('reading the README examples', () => {
  const md = [
    'text',
    '```',
    'npm start',
    '```',
    '```',
    "curl -u $AUTH -X PUT $ES/x -H 'content-type: application/json' -d '{",
    '  "a": "# not a comment"}\'',
    'curl -u $AUTH -X POST $ES/x/_data \\',
    "  --data-binary $'{\"t\":1}\\n{\\'q\\':2}\\n'   # → 409: not open",
    'curl -u $AUTH "$ES/x/_close"   # → 200 {"closed":true}: closes',
    'curl -u $AUTH "$ES/x#y"   # ids, groups → 404 is not at the start',
    '```',
  ].join('\n');

  it('splits multi-line commands, reads → <status> [json] and defaults to 200', () => {
    const examples = readmeExamples(md);
    expect(examples.map((e) => ({ line: e.line, status: e.status, body: e.body }))).toEqual([
      { line: 6, status: 200, body: undefined },
      { line: 8, status: 409, body: undefined },
      { line: 10, status: 200, body: { closed: true } },
      { line: 11, status: 200, body: undefined },
    ]);
    expect(examples[0]!.command).toBe('curl -u $AUTH -X PUT $ES/x -H \'content-type: application/json\' -d \'{\n  "a": "# not a comment"}\'');
    expect(examples.every((e) => e.block === 1)).toBe(true);
  });

  it('refuses a curl block with another command, and an expectation that is not JSON', () => {
    expect(() => readmeExamples('```\nexport A=1\ncurl $ES/\n```')).toThrow('README line 2: a curl block holds a command that is not curl: export A=1');
    expect(() => readmeExamples('```\ncurl $ES/   # → 200 {"task": …}\n```')).toThrow(/README line 2: the expected answer .* is not JSON/);
  });
});

describe('the README walk-through on a fresh system', () => {
  let system: LocalSystem;
  const log: string[] = [];

  beforeAll(async () => {
    // As `npm start` runs it, but without the schedules: none of the examples needs them,
    // and a maintenance run at 00:30 UTC would only make the run depend on the clock.
    system = await startLocalSystem({ port: 0, elasticPassword: 'readme-password', cron: false, log: (l) => log.push(l) });
  });
  afterAll(async () => {
    await system?.stop();
  });

  it('runs every curl example in order, each answering what its comment says', async () => {
    const examples = readmeExamples(readFileSync(new URL('../../README.md', import.meta.url), 'utf8'));
    // The walk-through covers the APIs: a README that lost its examples must not pass.
    expect(examples.length).toBeGreaterThanOrEqual(20);
    const env = { ...process.env, ES: system.url, AUTH: `elastic:${system.elasticPassword}` };
    const failures: string[] = [];
    for (const ex of examples) {
      // The status goes on a last line of its own; the body (JSON, or curl's error) stays as it is.
      const script = ex.command.replace(/^curl /, `curl -sS --max-time 60 -w '\\n%{http_code}' `);
      const { stdout, stderr } = await run('bash', ['-c', script], { env }).catch((err: { stdout?: string; stderr?: string }) => ({
        stdout: err.stdout ?? '',
        stderr: err.stderr ?? String(err),
      }));
      const cut = stdout.lastIndexOf('\n');
      const status = Number(stdout.slice(cut + 1));
      const answer = stdout.slice(0, Math.max(cut, 0)) + stderr;
      let problem: string | undefined;
      if (status !== ex.status) problem = `expected ${ex.status}, got ${status || 'no answer'}`;
      else if (ex.body !== undefined) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(answer);
        } catch {
          parsed = undefined;
        }
        if (!expect.objectContaining(ex.body as object).asymmetricMatch(parsed)) problem = `expected the answer to contain ${JSON.stringify(ex.body)}`;
      }
      if (problem) failures.push(`README block ${ex.block}, line ${ex.line}: ${problem}\n  ${ex.command.replace(/\n/g, '\n  ')}\n  answer: ${answer}`);
    }
    expect(failures, `${failures.join('\n\n')}\n\nsystem log:\n${log.join('\n')}`).toEqual([]);
  });
});
