/**
 * Pure conversions between what the local runtime sees (an HTTP request, an SQS
 * message, a cron tick) and the events AWS delivers to Lambda for the same thing: an
 * API Gateway HTTP API payload 2.0 event, an SQS event source mapping record, an
 * EventBridge scheduled event. No I/O here, so each shape is unit-tested on its own.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2, SQSMessageAttribute, SQSRecord, ScheduledEvent } from 'aws-lambda';
import { LOCAL_ACCOUNT_ID } from './lambda.ts';

/** One HTTP request as the local server received it, already matched to a route. */
export interface HttpRequestInfo {
  method: string;
  /** The request target as sent: path and query string (`/_ml/info?pretty`). */
  url: string;
  /** `1.1` for `HTTP/1.1`. */
  httpVersion: string;
  /** Node's `rawHeaders`: names and values alternating, in arrival order, case kept. */
  rawHeaders: readonly string[];
  /** The body: UTF-8 text, or base64 when `isBase64Encoded` (`''` when there is none). */
  body: string;
  /**
   * The body is base64 (bytes that are not UTF-8 text), as API Gateway passes a binary
   * body; never decode such bytes to text here, it would turn them into U+FFFD.
   */
  isBase64Encoded?: boolean;
  sourceIp: string;
  /** `"METHOD /path"` of the matched route, as in the topology. */
  routeKey: string;
  /** URL-decoded path parameters of the matched route (none: omit or empty). */
  pathParameters?: Record<string, string>;
  /** When the request arrived (default: now). */
  now?: Date;
  /** API Gateway's request id (default: a random one of the same form). */
  requestId?: string;
  /** The API id shown in `requestContext.apiId` (default `local`). */
  apiId?: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

/** `12/Mar/2020:19:03:58 +0000`, the CLF time API Gateway puts in `requestContext.time`. */
export function clfTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/**
 * Lower-cases header names and joins repeated headers with `,`, as API Gateway HTTP
 * APIs do (Node's `req.headers` drops some duplicates and joins others with `, `).
 */
export function joinHeaders(rawHeaders: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    out[name] = name in out ? `${out[name]},${value}` : value;
  }
  return out;
}

/**
 * Query string parameters the API Gateway way: values URL-decoded, a repeated key's
 * values joined with `,` in order (`?a=1&a=2` → `{a:"1,2"}`), a bare key → `""`.
 * `undefined` when there is no query string, as API Gateway omits the field.
 */
export function queryParameters(rawQueryString: string): Record<string, string> | undefined {
  if (rawQueryString === '') return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(rawQueryString)) {
    out[k] = k in out ? `${out[k]},${v}` : v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The API Gateway HTTP API (payload format 2.0) event for a request: `version` `2.0`,
 * the route's `routeKey`, `rawPath`/`rawQueryString` as sent, lower-cased `headers`
 * (repeats joined with `,`, `cookie` moved to `cookies` split on `;`, and the
 * `x-forwarded-*` headers API Gateway adds), `queryStringParameters`,
 * `pathParameters`, the body as a UTF-8 string (`isBase64Encoded: false`) or, for bytes
 * that are not UTF-8, as base64 (`isBase64Encoded: true`), and the
 * `requestContext` of the `$default` stage.
 */
export function toApiGatewayEvent(req: HttpRequestInfo): APIGatewayProxyEventV2 {
  const now = req.now ?? new Date();
  const q = req.url.indexOf('?');
  const rawPath = q === -1 ? req.url : req.url.slice(0, q);
  const rawQueryString = q === -1 ? '' : req.url.slice(q + 1);
  const headers = joinHeaders(req.rawHeaders);
  const cookieHeader = headers.cookie;
  delete headers.cookie;
  headers['x-forwarded-for'] = headers['x-forwarded-for'] ? `${headers['x-forwarded-for']}, ${req.sourceIp}` : req.sourceIp;
  headers['x-forwarded-proto'] ??= 'http';
  const host = headers.host ?? 'localhost';
  const port = /:(\d+)$/.exec(host)?.[1];
  if (port) headers['x-forwarded-port'] ??= port;

  const event: APIGatewayProxyEventV2 = {
    version: '2.0',
    routeKey: req.routeKey,
    rawPath,
    rawQueryString,
    headers,
    requestContext: {
      accountId: LOCAL_ACCOUNT_ID,
      apiId: req.apiId ?? 'local',
      domainName: host,
      domainPrefix: host.split('.')[0]!.replace(/:\d+$/, ''),
      http: {
        method: req.method,
        path: rawPath,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: req.requestId ?? randomBytes(11).toString('base64'),
      routeKey: req.routeKey,
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now.getTime(),
    },
    isBase64Encoded: req.isBase64Encoded === true,
  };
  if (cookieHeader !== undefined) {
    // Split each Cookie header on its own: a joined value's `,` may belong to a cookie.
    const cookies: string[] = [];
    for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
      if (req.rawHeaders[i]!.toLowerCase() !== 'cookie') continue;
      for (const c of req.rawHeaders[i + 1]!.split(';')) if (c.trim() !== '') cookies.push(c.trim());
    }
    event.cookies = cookies;
  }
  const query = queryParameters(rawQueryString);
  if (query) event.queryStringParameters = query;
  if (req.pathParameters && Object.keys(req.pathParameters).length > 0) event.pathParameters = { ...req.pathParameters };
  if (req.body !== '') event.body = req.body;
  return event;
}

/** What the local server writes back for a handler's result. */
export interface HttpResponse {
  statusCode: number;
  headers: OutgoingHttpHeaders;
  body: Buffer;
}

/**
 * Turns a payload 2.0 result into the HTTP response API Gateway sends: a structured
 * result (`statusCode` present) as given, header values stringified, `cookies` as
 * `set-cookie`, the body base64-decoded when `isBase64Encoded`; anything else (a
 * string, an object without `statusCode`) is a 200 JSON body, as API Gateway infers.
 * `content-length` is always set, also for HEAD, whose body the server then drops.
 */
export function toHttpResponse(result: APIGatewayProxyResultV2): HttpResponse {
  let statusCode = 200;
  let headers: OutgoingHttpHeaders = {};
  let body: Buffer;
  if (result !== null && typeof result === 'object' && 'statusCode' in result && result.statusCode !== undefined) {
    statusCode = result.statusCode;
    for (const [k, v] of Object.entries(result.headers ?? {})) headers[k.toLowerCase()] = String(v);
    if (result.cookies && result.cookies.length > 0) headers['set-cookie'] = [...result.cookies];
    const raw = result.body ?? '';
    body = result.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
    if (body.length > 0 && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
  } else {
    const text = typeof result === 'string' ? result : (JSON.stringify(result) ?? '');
    headers = { 'content-type': 'application/json' };
    body = Buffer.from(text, 'utf8');
  }
  headers['content-length'] = String(body.length);
  return { statusCode, headers, body };
}

function toRecordAttribute(v: MessageAttributeValue): SQSMessageAttribute {
  const out: SQSMessageAttribute = {
    stringListValues: v.StringListValues ?? [],
    binaryListValues: (v.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
    dataType: v.DataType ?? 'String',
  };
  if (v.StringValue !== undefined) out.stringValue = v.StringValue;
  if (v.BinaryValue !== undefined) out.binaryValue = Buffer.from(v.BinaryValue).toString('base64');
  return out;
}

/**
 * The Lambda event record for a received SQS message (received with
 * `MessageSystemAttributeNames: ['All']` and `MessageAttributeNames: ['All']`), in the
 * shape Lambda's event source mapping delivers: camel-cased `messageAttributes` with
 * base64 binary values and empty list values, string system `attributes`,
 * `eventSource` `aws:sqs`.
 */
export function toSqsRecord(message: Message, queue: { arn: string; region: string }): SQSRecord {
  const a = message.Attributes ?? {};
  const attributes: SQSRecord['attributes'] = {
    ApproximateReceiveCount: a.ApproximateReceiveCount ?? '1',
    SentTimestamp: a.SentTimestamp ?? String(Date.now()),
    SenderId: a.SenderId ?? LOCAL_ACCOUNT_ID,
    ApproximateFirstReceiveTimestamp: a.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
  };
  if (a.SequenceNumber !== undefined) attributes.SequenceNumber = a.SequenceNumber;
  if (a.MessageGroupId !== undefined) attributes.MessageGroupId = a.MessageGroupId;
  if (a.MessageDeduplicationId !== undefined) attributes.MessageDeduplicationId = a.MessageDeduplicationId;
  if (a.AWSTraceHeader !== undefined) attributes.AWSTraceHeader = a.AWSTraceHeader;

  const messageAttributes: SQSRecord['messageAttributes'] = {};
  for (const [name, v] of Object.entries(message.MessageAttributes ?? {})) messageAttributes[name] = toRecordAttribute(v);

  const record: SQSRecord = {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes,
    messageAttributes,
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queue.arn,
    awsRegion: queue.region,
  };
  if (message.MD5OfMessageAttributes) record.md5OfMessageAttributes = message.MD5OfMessageAttributes;
  return record;
}

/**
 * The EventBridge event of a schedule rule firing: `detail-type` `Scheduled Event`,
 * `source` `aws.events`, `resources` [the rule's ARN], `time` to the second, empty
 * `detail`.
 */
export function toScheduledEvent(rule: { name: string; region: string; time?: Date }): ScheduledEvent {
  const time = (rule.time ?? new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: LOCAL_ACCOUNT_ID,
    time,
    region: rule.region,
    resources: [`arn:aws:events:${rule.region}:${LOCAL_ACCOUNT_ID}:rule/${rule.name}`],
    detail: {},
  };
}
