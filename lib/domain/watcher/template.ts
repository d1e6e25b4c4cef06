/**
 * The Mustache subset Watcher templates use (logging `text`, webhook `path`/`body`,
 * index names), rendered as Elasticsearch's `TextTemplateEngine` renders a `text/plain`
 * template: no HTML escaping.
 *
 * Supported: `{{a.b.0}}` and `{{{a.b}}}` (dot paths through maps and lists, looked up on
 * the section stack from the innermost out), `{{.}}`, sections `{{#x}}…{{/x}}` (lists
 * iterate, maps push, `true` renders once), inverted sections `{{^x}}…{{/x}}`, comments
 * `{{! … }}`, and Elasticsearch's `{{#toJson}}path{{/toJson}}` and
 * `{{#join}}path{{/join}}` (`, ` between elements). Partials, lambdas and delimiter changes
 * are not: Watcher templates do not use them, and no Mustache library is in node_modules
 * (adding one for this subset would pull in HTML escaping we must then turn off).
 */
import { evalPath, javaString } from './compare.ts';

type Node = { kind: 'text'; text: string } | { kind: 'var'; name: string } | { kind: 'section'; name: string; inverted: boolean; children: Node[]; raw: string };

/** A template that does not parse (an unclosed or mismatched section): 400 `parse_exception` at put or execute time. */
export class TemplateSyntaxError extends Error {}

const TAG = /\{\{(\{?)\s*([#^/!]?)\s*([^}]*?)\s*\}?\}\}/g;

function parse(src: string): Node[] {
  const root: Node[] = [];
  const stack: { name: string; children: Node[]; node?: Node & { kind: 'section' }; start: number }[] = [{ name: '', children: root, start: 0 }];
  let last = 0;
  for (const m of src.matchAll(TAG)) {
    const top = stack[stack.length - 1] as (typeof stack)[number];
    if (m.index > last) top.children.push({ kind: 'text', text: src.slice(last, m.index) });
    last = m.index + m[0].length;
    const sigil = m[2];
    const name = m[3] ?? '';
    if (sigil === '!') continue;
    if (sigil === '#' || sigil === '^') {
      const node = { kind: 'section' as const, name, inverted: sigil === '^', children: [] as Node[], raw: '' };
      top.children.push(node);
      stack.push({ name, children: node.children, node, start: last });
    } else if (sigil === '/') {
      if (stack.length === 1 || top.name !== name) throw new TemplateSyntaxError(`Mismatched close tag [${name}]`);
      if (top.node) top.node.raw = src.slice(top.start, m.index);
      stack.pop();
    } else {
      top.children.push({ kind: 'var', name });
    }
  }
  if (stack.length > 1) throw new TemplateSyntaxError(`Unclosed section [${(stack[stack.length - 1] as { name: string }).name}]`);
  if (last < src.length) root.push({ kind: 'text', text: src.slice(last) });
  return root;
}

function lookup(name: string, scopes: unknown[]): unknown {
  if (name === '.') return scopes[scopes.length - 1];
  const [head = '', ...rest] = name.split('.');
  for (let i = scopes.length - 1; i >= 0; i--) {
    const s = scopes[i];
    if (s && typeof s === 'object' && !Array.isArray(s) && !(s instanceof Date) && Object.hasOwn(s, head)) {
      return evalPath(rest.join('.'), (s as Record<string, unknown>)[head]);
    }
  }
  return undefined;
}

/** How a value prints: Java's `toString` of the model value (maps `{k=v}`, lists `[a, b]`, dates ISO-8601). */
function show(v: unknown): string {
  return v === null || v === undefined ? '' : javaString(v);
}

function toJson(v: unknown): string {
  return JSON.stringify(v ?? null);
}

function renderNodes(nodes: Node[], scopes: unknown[]): string {
  let out = '';
  for (const n of nodes) {
    if (n.kind === 'text') out += n.text;
    else if (n.kind === 'var') out += show(lookup(n.name, scopes));
    else if (!n.inverted && n.name === 'toJson') out += toJson(lookup(n.raw.trim(), scopes));
    else if (!n.inverted && n.name === 'join') {
      const v = lookup(n.raw.trim(), scopes);
      out += Array.isArray(v) ? v.map(show).join(', ') : show(v);
    } else {
      const v = lookup(n.name, scopes);
      const empty = v === undefined || v === null || v === false || v === '' || (Array.isArray(v) && v.length === 0);
      if (n.inverted) {
        if (empty) out += renderNodes(n.children, scopes);
      } else if (!empty) {
        if (Array.isArray(v)) for (const item of v) out += renderNodes(n.children, [...scopes, item]);
        else out += renderNodes(n.children, v === true ? scopes : [...scopes, v]);
      }
    }
  }
  return out;
}

/**
 * Renders a template against a model such as `{ctx: {payload, watch_id, execution_time,
 * trigger: {triggered_time, scheduled_time}, metadata}}`. A missing value renders empty.
 * @throws TemplateSyntaxError for unbalanced sections.
 */
export function renderTemplate(template: string, model: Record<string, unknown>): string {
  if (!template.includes('{{')) return template;
  return renderNodes(parse(template), [model]);
}
