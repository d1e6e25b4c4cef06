/**
 * The local SQS: the fauxqs emulator in this process, with the command queue of the
 * topology (FIFO) and its FIFO dead-letter queue, wired by a `RedrivePolicy` as the CDK
 * stack wires them.
 *
 * fauxqs keeps everything in memory: queued messages do not survive a restart. With a
 * data folder, the durable record of queued work is the Command items in DynamoDB; a
 * recovery step that re-sends them belongs in `onStarted`.
 */
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { SQSClient } from '@aws-sdk/client-sqs';
import { commandQueue } from '../runtime/topology.ts';

/** One queue as created: its name, URL (`http://sqs.<region>.localhost:<port>/000000000000/<name>`) and ARN. */
export interface LocalQueue {
  name: string;
  url: string;
  arn: string;
}

/** The running local SQS. */
export interface LocalSqs {
  server: FauxqsServer;
  /** `http://127.0.0.1:<port>`: give SQS clients this as an explicit `endpoint`. */
  endpoint: string;
  /**
   * `http://sqs.<region>.localhost:<port>`: the origin of the queue URLs; as
   * `AWS_ENDPOINT_URL_SQS` it keeps the SDK from warning that the queue URL host differs
   * from the endpoint (needs `interceptLocalhostDns()` to resolve).
   */
  queueUrlOrigin: string;
  region: string;
  commandQueue: LocalQueue;
  deadLetterQueue: LocalQueue;
  /** Stops the emulator (its state is lost). */
  stop(): Promise<void>;
}

/** Options of {@link startLocalSqs}. */
export interface LocalSqsOptions {
  /** Region of the queue URLs and ARNs (default `us-east-1`). */
  region?: string;
  /** Port (default 0: a free one). */
  port?: number;
  /** Queue `VisibilityTimeout` in seconds (default: the topology's). */
  visibilityTimeoutSeconds?: number;
  /** Receives before the DLQ (default: the topology's `maxReceiveCount`). */
  maxReceiveCount?: number;
  /** Called once the queues exist, before `startLocalSqs` resolves (e.g. to re-send queued commands). */
  onStarted?: (sqs: LocalSqs) => Promise<void> | void;
}

/**
 * Starts fauxqs (logger off) and creates `<commands>.fifo` and `<commands-dlq>.fifo`
 * from `topology.commandQueue`: FIFO, explicit deduplication ids (no content-based
 * deduplication), the topology's visibility timeout, and a `RedrivePolicy`
 * `{deadLetterTargetArn, maxReceiveCount}` on the command queue. If `onStarted` throws,
 * the emulator is stopped and the error rethrown.
 */
export async function startLocalSqs(opts: LocalSqsOptions = {}): Promise<LocalSqs> {
  const region = opts.region ?? 'us-east-1';
  const server = await startFauxqs({ port: opts.port ?? 0, logger: false, defaultRegion: region });
  try {
    const dlq = server.createQueue(`${commandQueue.dlqLogicalName}.fifo`, {
      region,
      attributes: {
        FifoQueue: 'true',
        ContentBasedDeduplication: 'false',
        MessageRetentionPeriod: String(14 * 24 * 3600),
      },
    });
    const main = server.createQueue(`${commandQueue.logicalName}.fifo`, {
      region,
      attributes: {
        FifoQueue: 'true',
        ContentBasedDeduplication: 'false',
        VisibilityTimeout: String(opts.visibilityTimeoutSeconds ?? commandQueue.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlq.queueArn,
          maxReceiveCount: opts.maxReceiveCount ?? commandQueue.maxReceiveCount,
        }),
      },
    });
    const sqs: LocalSqs = {
      server,
      endpoint: `http://127.0.0.1:${server.port}`,
      queueUrlOrigin: new URL(main.queueUrl).origin,
      region,
      commandQueue: { name: main.queueName, url: main.queueUrl, arn: main.queueArn },
      deadLetterQueue: { name: dlq.queueName, url: dlq.queueUrl, arn: dlq.queueArn },
      stop: () => server.stop(),
    };
    await opts.onStarted?.(sqs);
    return sqs;
  } catch (err) {
    await server.stop().catch(() => undefined);
    throw err;
  }
}

/**
 * An SQS client for the local emulator: explicit `endpoint` (so the SDK does not
 * switch to the `sqs.<region>.localhost` host of queue URLs), dummy credentials.
 */
export function createLocalSqsClient(endpoint: string, region: string): SQSClient {
  return new SQSClient({
    endpoint,
    region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
}
