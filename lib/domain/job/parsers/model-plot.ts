/**
 * The `model_plot_config` parser, shared by put-job and job update.
 */
import { ValueType, XObjectParser } from '../../json/object-parser.ts';
import type { ModelPlotConfig } from '../types.ts';

/**
 * `ModelPlotConfig.STRICT_PARSER`, used by put-job and by job update: `enabled` required,
 * `terms` optional, `annotations_enabled` defaulting to `enabled`.
 */
export const MODEL_PLOT_PARSER = new XObjectParser<ModelPlotConfig>(
  'model_plot_config',
  {
    enabled: { types: ValueType.BOOLEAN, parse: (n, p) => p.booleanValue(n), arg: 'required' },
    terms: { types: ValueType.STRING, parse: (n, p) => p.text(n), arg: 'optional' },
    annotations_enabled: { types: ValueType.BOOLEAN, parse: (n, p) => p.booleanValue(n), arg: 'optional' },
  },
  {
    construct: (a) => {
      const enabled = a[0] as boolean;
      const terms = a[1] as string | undefined;
      return {
        enabled,
        ...(terms !== undefined ? { terms } : {}),
        annotations_enabled: (a[2] as boolean | undefined) ?? enabled,
      };
    },
  },
);
