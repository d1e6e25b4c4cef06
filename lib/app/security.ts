import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { AuthenticationError, AuthorizationError, IllegalArgumentError } from '../domain/errors.ts';
import type { ClusterPrivilege } from '../runtime/topology.ts';
import { getUser, putUser, type UserRecord } from '../store/users.ts';

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
  // Elasticsearch's patterns: manage_watcher covers cluster:admin/xpack/watcher/* and
  // cluster:monitor/xpack/watcher/*, monitor_watcher the latter, monitor all cluster:monitor/*.
  manage_watcher: ['manage_watcher', 'manage', 'all'],
  monitor_watcher: ['monitor_watcher', 'manage_watcher', 'monitor', 'manage', 'all'],
};

/** An authenticated caller. */
export interface Principal {
  username: string;
  roles: string[];
}

/** Successful verifications, keyed by a SHA-256 of the credentials, so scrypt runs once per credential per container. */
const verified = new Map<string, { principal: Principal; until: number }>();
const VERIFIED_TTL_MS = 5 * 60_000;

/** `UsernamePasswordToken.BASIC_AUTH_PREFIX`: the scheme check is case-insensitive and needs exactly one space. */
const BASIC_PREFIX = 'Basic ';

/**
 * Decodes base64 the way Java's `Base64.getDecoder().decode(String)` does (basic alphabet,
 * padding optional, nothing after padding), so a malformed token is refused with the
 * `IllegalArgumentException` text Java gives.
 * @returns the bytes, or `{error}` with Java's message (e.g. "Illegal base64 character 21")
 */
export function decodeJavaBase64(text: string): { bytes: Buffer } | { error: string } {
  let inUnit = 0;
  let i = 0;
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (c === '=') {
      // Java: '=' cannot open a unit; after two symbols it must be '=='; nothing may follow it.
      if (inUnit === 0 || (inUnit === 2 && text[++i] !== '=')) return { error: 'Input byte array has wrong 4-byte ending unit' };
      i++;
      break;
    }
    if (!/[A-Za-z0-9+/]/.test(c)) {
      // Java reads the String as ISO-8859-1 bytes ('?' for the rest) and prints the signed byte in hex.
      const code = text.charCodeAt(i) > 0xff ? 0x3f : text.charCodeAt(i);
      return { error: `Illegal base64 character ${(code >= 0x80 ? code - 0x100 : code).toString(16)}` };
    }
    inUnit = (inUnit + 1) % 4;
  }
  if (inUnit === 1) return { error: 'Last unit does not have enough valid bits' };
  if (i < text.length) return { error: `Input byte array has incorrect ending byte at ${i}` };
  return { bytes: Buffer.from(text, 'base64') };
}

/** Java's `String.trim()`: strips every char <= U+0020 at both ends. */
function javaTrim(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s.charCodeAt(a) <= 0x20) a++;
  while (b > a && s.charCodeAt(b - 1) <= 0x20) b--;
  return s.slice(a, b);
}

/**
 * Authenticates an `Authorization` header (HTTP Basic), as x-pack security's
 * `UsernamePasswordToken.extractToken` and the native realm do. Elasticsearch's 401 bodies:
 * - no header, or a scheme other than `Basic ` → "missing authentication credentials for REST request [<path>]";
 * - `Basic ` with nothing after it, or a decoded value without `:` → "invalid basic authentication header value";
 * - a value that is not base64 → "invalid basic authentication header encoding", `caused_by` Java's
 *   `illegal_argument_exception` (e.g. "Illegal base64 character 21");
 * - wrong user or password → "unable to authenticate user [<u>] for REST request [<path>]".
 * Only the username is ever echoed (as Elasticsearch does), never the password nor the raw
 * token: a token without `:` is refused before it can be taken for a username.
 * @throws AuthenticationError (401 `security_exception`, with the `WWW-Authenticate` header data)
 */
export async function authenticate(authorization: string | undefined, path: string): Promise<Principal> {
  const missing = () => withChallenge(new AuthenticationError(`missing authentication credentials for REST request [${path}]`));
  if (!authorization) throw missing();
  // Another scheme (Bearer, ApiKey …) may suit another realm; mlplane has none, so it counts as no credentials.
  if (authorization.length < BASIC_PREFIX.length || authorization.slice(0, BASIC_PREFIX.length).toLowerCase() !== BASIC_PREFIX.toLowerCase()) throw missing();
  if (authorization.length === BASIC_PREFIX.length) throw withChallenge(new AuthenticationError('invalid basic authentication header value'));
  const token = javaTrim(authorization.slice(BASIC_PREFIX.length));
  const cacheKey = createHash('sha256').update(token).digest('hex');
  const hit = verified.get(cacheKey);
  if (hit && hit.until > Date.now()) return hit.principal;
  const decoded = decodeJavaBase64(token);
  if ('error' in decoded) {
    throw withChallenge(new AuthenticationError('invalid basic authentication header encoding', { cause: new IllegalArgumentError(decoded.error) }));
  }
  const text = decoded.bytes.toString('utf8');
  const colon = text.indexOf(':');
  if (colon < 0) throw withChallenge(new AuthenticationError('invalid basic authentication header value'));
  const username = text.slice(0, colon);
  const password = text.slice(colon + 1);
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
