import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { AuthenticationError, AuthorizationError } from '../domain/errors.ts';
import type { ClusterPrivilege } from '../runtime/topology.ts';
import { getUser, putUser, type UserRecord } from '../store/misc.ts';

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, keylen: number, opts: { N: number; r: number; p: number }) => Promise<Buffer>;
const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 } as const;

/** `scrypt$N$r$p$<salt b64>$<hash b64>` of a password (node:crypto scrypt, 16-byte random salt). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, SCRYPT.keylen, SCRYPT);
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

/** Constant-time check of a password against a `hashPassword` string. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/**
 * Creates or resets the bootstrap superuser `elastic` with `password` (stored hashed), as
 * Elasticsearch's bootstrap password (`ELASTIC_PASSWORD`) does. With `keepExisting` an
 * existing user keeps its password (a generated password must not replace the one a
 * user already has on a persistent data dir).
 * @returns true when `password` is now the user's password
 */
export async function ensureBootstrapSuperuser(password: string, opts: { keepExisting?: boolean } = {}): Promise<boolean> {
  const existing = await getUser('elastic');
  if (existing && opts.keepExisting) return false;
  if (existing && (await verifyPassword(password, existing.password_hash))) return true;
  await putUser({ username: 'elastic', password_hash: await hashPassword(password), roles: ['superuser'], enabled: true });
  verified.clear();
  return true;
}

/** Cluster privileges each built-in role grants (Elasticsearch's reserved roles, ML and watcher subset). */
export const rolePrivileges: Record<string, readonly string[]> = {
  superuser: ['all'],
  machine_learning_admin: ['manage_ml'],
  machine_learning_user: ['monitor_ml'],
  watcher_admin: ['manage_watcher'],
  watcher_user: ['monitor_watcher'],
};

/** Privileges that imply a privilege (a privilege always implies itself). */
const impliedBy: Record<ClusterPrivilege, readonly string[]> = {
  all: ['all'],
  manage: ['manage', 'all'],
  manage_ml: ['manage_ml', 'manage', 'all'],
  monitor: ['monitor', 'manage', 'all'],
  monitor_ml: ['monitor_ml', 'manage_ml', 'monitor', 'manage', 'all'],
};

/** An authenticated caller. */
export interface Principal {
  username: string;
  roles: string[];
}

/** Successful verifications, keyed by a SHA-256 of the credentials, so scrypt runs once per credential per container. */
const verified = new Map<string, { principal: Principal; until: number }>();
const VERIFIED_TTL_MS = 5 * 60_000;

/**
 * Authenticates an `Authorization` header (HTTP Basic). Elasticsearch's 401 bodies:
 * no header → "missing authentication credentials for REST request [<path>]"; wrong
 * user or password → "unable to authenticate user [<u>] for REST request [<path>]".
 * @throws AuthenticationError (401 `security_exception`, with the `WWW-Authenticate` header data)
 */
export async function authenticate(authorization: string | undefined, path: string): Promise<Principal> {
  if (!authorization) throw withChallenge(new AuthenticationError(`missing authentication credentials for REST request [${path}]`));
  const [scheme, token] = authorization.split(/\s+/, 2);
  if (scheme?.toLowerCase() !== 'basic' || !token) {
    throw withChallenge(new AuthenticationError(`missing authentication credentials for REST request [${path}]`));
  }
  const cacheKey = createHash('sha256').update(token).digest('hex');
  const hit = verified.get(cacheKey);
  if (hit && hit.until > Date.now()) return hit.principal;
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const username = colon < 0 ? decoded : decoded.slice(0, colon);
  const password = colon < 0 ? '' : decoded.slice(colon + 1);
  const user: UserRecord | undefined = await getUser(username);
  if (!user || !user.enabled || !(await verifyPassword(password, user.password_hash))) {
    throw withChallenge(new AuthenticationError(`unable to authenticate user [${username}] for REST request [${path}]`));
  }
  const principal = { username, roles: user.roles };
  verified.set(cacheKey, { principal, until: Date.now() + VERIFIED_TTL_MS });
  return principal;
}

function withChallenge(err: AuthenticationError): AuthenticationError {
  (err.metadata as Record<string, unknown>).header = { 'WWW-Authenticate': ['Basic realm="security", charset="UTF-8"', 'ApiKey'] };
  return err;
}

/**
 * Checks that a principal holds `privilege` through its roles.
 * @throws AuthorizationError 403 with Elasticsearch's "action [..] is unauthorized for user [..]" text
 */
export function authorize(principal: Principal, privilege: ClusterPrivilege, action: string): void {
  const held = new Set(principal.roles.flatMap((r) => rolePrivileges[r] ?? []));
  const grantors = impliedBy[privilege];
  if (grantors.some((p) => held.has(p))) return;
  throw new AuthorizationError(
    `action [${action}] is unauthorized for user [${principal.username}] with effective roles [${principal.roles.join(',')}], this action is granted by the cluster privileges [${grantors.join(',')}]`,
  );
}
