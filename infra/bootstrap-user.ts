/**
 * Creates (or resets) the bootstrap superuser `elastic` in a deployed stack's table, the
 * way Elasticsearch's `ELASTIC_PASSWORD` bootstrap does. Run once after `cdk deploy`:
 *
 *   TABLE_NAME=<TableName output> COMMAND_QUEUE_URL=<CommandQueueUrl output> \
 *   ELASTIC_PASSWORD=... npm run bootstrap:aws
 *
 * Credentials and region come from the default AWS provider chain (for LocalStack,
 * `AWS_ENDPOINT_URL=http://localhost:4566`). The password is stored scrypt-hashed.
 */
import { ensureBootstrapSuperuser } from '../lib/app/security.ts';

const password = process.env.ELASTIC_PASSWORD;
if (!password) {
  console.error('ELASTIC_PASSWORD must be set (the password for the elastic superuser)');
  process.exit(1);
}
await ensureBootstrapSuperuser(password);
console.log(`elastic superuser ready in table ${process.env.TABLE_NAME}`);
