import { describe, expect, it } from 'vitest';
import { renderTemplate, TemplateSyntaxError } from '../../../../lib/domain/watcher/template.ts';

const model = {
  ctx: {
    watch_id: 'w1',
    execution_time: new Date('2026-01-10T12:00:00.000Z'),
    trigger: { triggered_time: new Date('2026-01-10T11:59:00.000Z') },
    payload: { count: 3, name: 'a<b>', hits: [{ id: 'x' }, { id: 'y' }], obj: { k: 1 }, tags: ['p', 'q'], none: [] },
  },
};

describe('renderTemplate', () => {
  it('substitutes ctx paths, dates as ISO-8601, without HTML escaping', () => {
    expect(renderTemplate('{{ctx.watch_id}} at {{ctx.execution_time}} ({{ctx.trigger.triggered_time}}): {{ctx.payload.count}} {{ctx.payload.name}}', model)).toBe(
      'w1 at 2026-01-10T12:00:00.000Z (2026-01-10T11:59:00.000Z): 3 a<b>',
    );
  });

  it('renders a missing value as empty and maps the Java way', () => {
    expect(renderTemplate('[{{ctx.payload.missing}}] {{ctx.payload.obj}} {{{ctx.payload.hits.1.id}}}', model)).toBe('[] {k=1} y');
  });

  it('iterates list sections, skips empty ones and renders inverted sections', () => {
    expect(
      renderTemplate('{{#ctx.payload.hits}}<{{id}}>{{/ctx.payload.hits}}{{^ctx.payload.none}}none{{/ctx.payload.none}}{{#ctx.payload.none}}X{{/ctx.payload.none}}', model),
    ).toBe('<x><y>none');
  });

  it('supports toJson and join', () => {
    expect(renderTemplate('{{#toJson}}ctx.payload.obj{{/toJson}} {{#join}}ctx.payload.tags{{/join}}', model)).toBe('{"k":1} p, q');
  });

  it('refuses unbalanced sections', () => {
    expect(() => renderTemplate('{{#a}}x', model)).toThrow(TemplateSyntaxError);
    expect(() => renderTemplate('{{#a}}x{{/b}}', model)).toThrow(TemplateSyntaxError);
  });
});
