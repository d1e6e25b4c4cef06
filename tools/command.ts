/**
 * `npm run command -- '<command event json>'`: sends one command event to the command ingress
 * of a running `npm start` (its local Lambda Invoke API), the way an EventBridge Scheduler
 * schedule or rule invokes the ingress in AWS, and prints the outcome:
 *
 * ```
 * task mlplane-0:1764125000000123 status 200
 * {"closed":true}
 * ```
 *
 * A bare event without `origin` gets `{"kind":"cli","name":"npm run command"}`. The endpoint is
 * `MLPLANE_LAMBDA_URL`, else `http://127.0.0.1:${LAMBDA_PORT:-9201}`. Exit code 0 for a 2xx
 * outcome, 1 otherwise (a 4xx or 5xx outcome, an event that is not JSON, no system running).
 * Only `fetch`: no SDK, so it runs wherever Node does.
 */

const url = process.env.MLPLANE_LAMBDA_URL || `http://127.0.0.1:${process.env.LAMBDA_PORT || '9201'}`;
const text = process.argv[2];

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

if (text === undefined || process.argv.length > 3) {
  fail(
    `usage: npm run command -- '<command event json>'\n  e.g. npm run command -- '{"method":"POST","path":"/_ml/anomaly_detectors/nightly-*/_close","query":{"allow_no_match":true}}'`,
  );
}
let event: unknown;
try {
  event = JSON.parse(text);
} catch (err) {
  fail(`the command event is not JSON: ${(err as Error).message}`);
}
// A bare event names its sender; an EventBridge envelope's origin comes from its source.
if (typeof event === 'object' && event !== null && !Array.isArray(event) && !('detail-type' in event) && !('origin' in event)) {
  event = { ...event, origin: { kind: 'cli', name: 'npm run command' } };
}

let res: Response;
try {
  res = await fetch(`${url}/2015-03-31/functions/command-ingress/invocations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(event),
  });
} catch (err) {
  fail(`no mlplane command ingress at ${url} (is npm start running?): ${(err as Error).cause ?? (err as Error).message}`);
}
const payload = (await res.json().catch(() => undefined)) as Record<string, unknown> | undefined;
if (res.status !== 200 || !payload) fail(`the Invoke API answered ${res.status}: ${JSON.stringify(payload)}`);
if (res.headers.get('x-amz-function-error')) fail(`the command ingress failed (it would be retried in AWS): ${String(payload.errorMessage)}`);
const { task, status, body } = payload as { task: string; status: number; body: unknown };
console.log(`task ${task} status ${status}`);
console.log(typeof body === 'string' ? body : JSON.stringify(body, null, 2));
process.exit(status >= 200 && status < 300 ? 0 : 1);
