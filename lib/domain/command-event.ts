import * as z from 'zod';

/**
 * The command event, version 1: one Elasticsearch REST request as JSON, sent by an
 * EventBridge Scheduler schedule, an EventBridge rule, `npm run command` or anything that
 * can invoke the command-ingress function. It stands for exactly the HTTP request
 * `method path?query` with `body`, and is checked and run as that request would be
 * (same route, same parameter and body checks, same use case, same errors).
 *
 * ```json
 * {
 *   "command_version": 1,
 *   "method": "POST",
 *   "path": "/_ml/anomaly_detectors/nightly-*\/_close",
 *   "query": { "allow_no_match": "true" },
 *   "body": { "timeout": "10m" },
 *   "origin": { "kind": "schedule", "name": "close-nightly" }
 * }
 * ```
 *
 * - `command_version`: `1` (default when absent); any other value is refused, so a newer
 *   sender never has its event half-understood.
 * - `method`: `GET`, `HEAD`, `PUT`, `POST` or `DELETE`.
 * - `path`: the request path as it would be sent over HTTP (percent-encoded where a URL
 *   would be), starting with `/`, without a query string.
 * - `query`: the query parameters; numbers and booleans are taken as their text, as a URL
 *   carries them (`{"timeout": "30s", "force": true}` is `?timeout=30s&force=true`).
 * - `body`: the request body: a JSON value (sent as `application/json`), or a string sent
 *   as is (NDJSON for `_data` and `_bulk`).
 * - `origin`: who sent it (`schedule`, `rule`, `cli` or `other`, a name, and optionally the
 *   sender's execution or event id and the scheduled time): named in the task description,
 *   the audit message and the log lines. Senders built by mlplane fill it in
 *   (the `ScheduledCommand` construct, `schedules.json`, `npm run command`).
 */
export const COMMAND_EVENT_VERSION = 1;

/** Where a command event came from. */
export const commandOriginSchema = z.strictObject({
  kind: z.enum(['schedule', 'rule', 'cli', 'other']),
  /** The schedule's or rule's name (an ARN is accepted and shortened to its last segment where shown). */
  name: z.string().min(1).max(512),
  /** The sender's id of this firing (Scheduler `<aws.scheduler.execution-id>`, an event's `id`). */
  id: z.string().min(1).max(512).optional(),
  /** When the firing was due, ISO-8601 (Scheduler `<aws.scheduler.scheduled-time>`). */
  scheduled_time: z.string().min(1).max(64).optional(),
});
export type CommandOrigin = z.infer<typeof commandOriginSchema>;

const queryValue = z.union([z.string(), z.number(), z.boolean()]);

/** Version 1 of the command event (see the module comment). Strict: an unknown key is an error, not ignored. */
export const commandEventSchema = z.strictObject({
  command_version: z.literal(COMMAND_EVENT_VERSION).default(COMMAND_EVENT_VERSION),
  method: z.enum(['GET', 'HEAD', 'PUT', 'POST', 'DELETE']),
  path: z
    .string()
    .min(1)
    .max(4096)
    .refine((p) => p.startsWith('/'), 'must start with /')
    .refine((p) => !p.includes('?') && !p.includes('#'), 'must not hold a query string or fragment: put parameters in [query]'),
  query: z.record(z.string(), queryValue).optional(),
  body: z.unknown().optional(),
  origin: commandOriginSchema.optional(),
});
export type CommandEvent = z.infer<typeof commandEventSchema>;
/** A command event as a sender writes it (`command_version` may be left out). */
export type CommandEventInput = z.input<typeof commandEventSchema>;

/** The query of a command event as URL text values (`true` → `"true"`, `5` → `"5"`). */
export function commandQueryText(query: CommandEvent['query']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(query ?? {})) out[k] = String(v);
  return out;
}

/** The body of a command event as request text: a string as is, any other JSON value serialized; undefined without one. */
export function commandBodyText(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  return typeof body === 'string' ? body : JSON.stringify(body);
}
