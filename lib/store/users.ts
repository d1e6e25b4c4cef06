/** Stored users of the built-in security realm (scrypt password hash, roles). */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { db, tableName } from './db.ts';
import { keys } from './keys.ts';

/** A stored user: scrypt hash of the password and role names. */
export interface UserRecord {
  username: string;
  password_hash: string;
  roles: string[];
  enabled: boolean;
}

export async function getUser(username: string): Promise<UserRecord | undefined> {
  const out = await db().send(new GetCommand({ TableName: tableName(), Key: keys.user(username), ConsistentRead: true }));
  return out.Item ? (out.Item.user as UserRecord) : undefined;
}

export async function putUser(user: UserRecord): Promise<void> {
  await db().send(new PutCommand({ TableName: tableName(), Item: { ...keys.user(user.username), user } }));
}
