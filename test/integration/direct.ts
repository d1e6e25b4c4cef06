import { interceptLocalhostDns } from 'fauxqs';
import { inject } from 'vitest';

/**
 * Points this test process at the same DynamoDB Local and SQS as the running system
 * (for fault tests and for setting states no API can reach, like `failed`), then
 * returns the module loaded after the environment is set. fauxqs queue URLs use
 * `sqs.<region>.localhost`, which only its DNS interception resolves.
 */
export async function direct<T>(load: () => Promise<T>): Promise<T> {
  Object.assign(process.env, inject('awsEnv'));
  interceptLocalhostDns();
  return load();
}
