import { parser } from '@aws-lambda-powertools/parser/middleware';
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import * as z from 'zod';
import { lambdaContext } from '../runtime/log.ts';

/**
 * The event an EventBridge schedule rule sends (`detail-type: "Scheduled Event"`, source
 * `aws.events`, `time` an ISO-8601 UTC instant): Powertools' EventBridge envelope schema,
 * narrowed to what a rule's target receives. It lives here, not in `lib/domain`, because
 * the domain imports no Powertools (layer rule in `.dependency-cruiser.cjs`).
 */
export const scheduledEventSchema = EventBridgeSchema.extend({
  'detail-type': z.literal('Scheduled Event'),
  source: z.literal('aws.events'),
});

/** A parsed EventBridge scheduled event. */
export type ScheduledEvent = z.infer<typeof scheduledEventSchema>;

/**
 * Builds the Lambda handler of a scheduled function: the log lines get the Lambda context,
 * and the event is parsed by {@link scheduledEventSchema} before `run` sees it. An event
 * of any other shape throws Powertools' `ParseError` (the invocation fails and
 * EventBridge's retry policy applies) instead of running the task on a guessed time.
 */
export function scheduledFunction(run: (event: ScheduledEvent, context: Context) => Promise<void>) {
  return middy<ScheduledEvent, void, Error, Context>(run)
    .use(lambdaContext())
    .use(parser({ schema: scheduledEventSchema }));
}
