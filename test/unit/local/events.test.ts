import { describe, expect, it } from 'vitest';
import type { Message } from '@aws-sdk/client-sqs';
import { clfTime, joinHeaders, queryParameters, toApiGatewayEvent, toHttpResponse, toScheduledEvent, toSqsRecord, type HttpRequestInfo } from '../../../lib/local/events.ts';

const request = (over: Partial<HttpRequestInfo> = {}): HttpRequestInfo => ({
  method: 'POST',
  url: '/_ml/anomaly_detectors/my%20job/_close?force=true&timeout=30s',
  httpVersion: '1.1',
  rawHeaders: ['Host', 'localhost:9200', 'Content-Type', 'application/json', 'User-Agent', 'curl/8.0'],
  body: '{"force":true}',
  sourceIp: '127.0.0.1',
  routeKey: 'POST /_ml/anomaly_detectors/{job_id}/_close',
  pathParameters: { job_id: 'my job' },
  now: new Date(Date.UTC(2020, 2, 12, 19, 3, 58)),
  requestId: 'JKJaXmPLvHcESHA=',
  ...over,
});

describe('toApiGatewayEvent', () => {
  it('builds a payload 2.0 event with the route key, raw path and query, and the $default stage context', () => {
    const event = toApiGatewayEvent(request());
    expect(event).toEqual({
      version: '2.0',
      routeKey: 'POST /_ml/anomaly_detectors/{job_id}/_close',
      rawPath: '/_ml/anomaly_detectors/my%20job/_close',
      rawQueryString: 'force=true&timeout=30s',
      headers: {
        host: 'localhost:9200',
        'content-type': 'application/json',
        'user-agent': 'curl/8.0',
        'x-forwarded-for': '127.0.0.1',
        'x-forwarded-proto': 'http',
        'x-forwarded-port': '9200',
      },
      queryStringParameters: { force: 'true', timeout: '30s' },
      pathParameters: { job_id: 'my job' },
      body: '{"force":true}',
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000',
        apiId: 'local',
        domainName: 'localhost:9200',
        domainPrefix: 'localhost',
        http: {
          method: 'POST',
          path: '/_ml/anomaly_detectors/my%20job/_close',
          protocol: 'HTTP/1.1',
          sourceIp: '127.0.0.1',
          userAgent: 'curl/8.0',
        },
        requestId: 'JKJaXmPLvHcESHA=',
        routeKey: 'POST /_ml/anomaly_detectors/{job_id}/_close',
        stage: '$default',
        time: '12/Mar/2020:19:03:58 +0000',
        timeEpoch: Date.UTC(2020, 2, 12, 19, 3, 58),
      },
    });
  });

  it('joins a repeated query key with commas and gives a bare key an empty value', () => {
    const event = toApiGatewayEvent(request({ url: '/x?id=a&id=b%2Cc&pretty' }));
    expect(event.queryStringParameters).toEqual({ id: 'a,b,c', pretty: '' });
    expect(event.rawQueryString).toBe('id=a&id=b%2Cc&pretty');
  });

  it('omits queryStringParameters, pathParameters and body when there are none', () => {
    const event = toApiGatewayEvent(request({ url: '/', body: '', pathParameters: {} }));
    expect(event).not.toHaveProperty('queryStringParameters');
    expect(event).not.toHaveProperty('pathParameters');
    expect(event).not.toHaveProperty('body');
    expect(event.rawQueryString).toBe('');
  });

  it('lower-cases header names and joins repeated headers with commas', () => {
    const event = toApiGatewayEvent(request({ rawHeaders: ['Host', 'h:1', 'X-Opaque-Id', 'a', 'x-opaque-id', 'b'] }));
    expect(event.headers['x-opaque-id']).toBe('a,b');
  });

  it('moves cookies out of the headers into the cookies list', () => {
    const event = toApiGatewayEvent(request({ rawHeaders: ['Host', 'h', 'Cookie', 'a=1; b=2', 'Cookie', 'c=3'] }));
    expect(event.cookies).toEqual(['a=1', 'b=2', 'c=3']);
    expect(event.headers).not.toHaveProperty('cookie');
  });
});

describe('joinHeaders and queryParameters', () => {
  it('keeps the order of repeated values', () => {
    expect(joinHeaders(['A', '1', 'B', '2', 'a', '3'])).toEqual({ a: '1,3', b: '2' });
    expect(queryParameters('a=2&a=1')).toEqual({ a: '2,1' });
    expect(queryParameters('')).toBeUndefined();
  });

  it('formats the request time as API Gateway does', () => {
    expect(clfTime(new Date(Date.UTC(2024, 0, 5, 3, 4, 5)))).toBe('05/Jan/2024:03:04:05 +0000');
  });
});

describe('toHttpResponse', () => {
  it('writes a structured result with stringified headers, cookies and the content length', () => {
    const r = toHttpResponse({ statusCode: 201, headers: { 'X-Elastic-Product': 'Elasticsearch', 'x-n': 3 }, body: '{"ok":true}', cookies: ['a=1'] });
    expect(r.statusCode).toBe(201);
    expect(r.headers).toEqual({
      'x-elastic-product': 'Elasticsearch',
      'x-n': '3',
      'set-cookie': ['a=1'],
      'content-type': 'application/json',
      'content-length': '11',
    });
    expect(r.body.toString()).toBe('{"ok":true}');
  });

  it('decodes a base64 body', () => {
    const r = toHttpResponse({ statusCode: 200, body: Buffer.from('héllo').toString('base64'), isBase64Encoded: true, headers: { 'content-type': 'text/plain' } });
    expect(r.body.toString('utf8')).toBe('héllo');
    expect(r.headers['content-length']).toBe(String(Buffer.byteLength('héllo')));
  });

  it('treats a result without statusCode as a 200 JSON body', () => {
    const r = toHttpResponse({ acknowledged: true } as never);
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(JSON.parse(r.body.toString())).toEqual({ acknowledged: true });
  });
});

describe('toSqsRecord', () => {
  it('converts a received message into the record Lambda delivers', () => {
    const message: Message = {
      MessageId: 'm-1',
      ReceiptHandle: 'rh-1',
      Body: '{"a":1}',
      MD5OfBody: 'md5-body',
      MD5OfMessageAttributes: 'md5-attrs',
      Attributes: {
        ApproximateReceiveCount: '2',
        SentTimestamp: '1700000000000',
        SenderId: '000000000000',
        ApproximateFirstReceiveTimestamp: '1700000000100',
        MessageGroupId: 'job/a',
        MessageDeduplicationId: 'cmd-1:job/a',
        SequenceNumber: '00000000000000000001',
      },
      MessageAttributes: {
        kind: { DataType: 'String', StringValue: 'close' },
        blob: { DataType: 'Binary', BinaryValue: Buffer.from([1, 2, 3]) },
      },
    };
    expect(toSqsRecord(message, { arn: 'arn:aws:sqs:eu-west-1:000000000000:commands.fifo', region: 'eu-west-1' })).toEqual({
      messageId: 'm-1',
      receiptHandle: 'rh-1',
      body: '{"a":1}',
      attributes: {
        ApproximateReceiveCount: '2',
        SentTimestamp: '1700000000000',
        SenderId: '000000000000',
        ApproximateFirstReceiveTimestamp: '1700000000100',
        MessageGroupId: 'job/a',
        MessageDeduplicationId: 'cmd-1:job/a',
        SequenceNumber: '00000000000000000001',
      },
      messageAttributes: {
        kind: { stringValue: 'close', stringListValues: [], binaryListValues: [], dataType: 'String' },
        blob: { binaryValue: 'AQID', stringListValues: [], binaryListValues: [], dataType: 'Binary' },
      },
      md5OfBody: 'md5-body',
      md5OfMessageAttributes: 'md5-attrs',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:eu-west-1:000000000000:commands.fifo',
      awsRegion: 'eu-west-1',
    });
  });
});

describe('toScheduledEvent', () => {
  it('is the EventBridge scheduled event of the rule, timed to the second', () => {
    const e = toScheduledEvent({ name: 'nightly-maintenance', region: 'us-east-1', time: new Date(Date.UTC(2024, 5, 1, 0, 30, 0, 123)) });
    expect(e).toMatchObject({
      version: '0',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: '2024-06-01T00:30:00Z',
      region: 'us-east-1',
      resources: ['arn:aws:events:us-east-1:000000000000:rule/nightly-maintenance'],
      detail: {},
    });
    expect(e.id).toMatch(/^[0-9a-f-]{36}$/);
  });
});
