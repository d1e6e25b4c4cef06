/**
 * Index names as Elasticsearch's `MetadataCreateIndexService.validateIndexOrAliasName`
 * and `validateIndexName` check them, in their order.
 */
import { InvalidIndexNameError } from '../errors.ts';

/** `Strings.INVALID_FILENAME_CHARS`, sorted and quoted as Elasticsearch renders it. */
const INVALID_CHARS = [' ', '"', '*', ',', '/', '<', '>', '?', '\\', '|'];
const INVALID_CHARS_TEXT = `[${INVALID_CHARS.map((c) => `'${c}'`).join(',')}]`;

/** Longest index name, in UTF-8 bytes. */
export const MAX_INDEX_NAME_BYTES = 255;

/**
 * Checks a name for a new index.
 * @throws InvalidIndexNameError 400 with Elasticsearch's reasons: "must not contain the following
 *   characters [' ','"','*',',','/','<','>','?','\','|']", "must not contain '#'", "must not contain ':'",
 *   "must not start with '_', '-', or '+'", "must be lowercase", "must not be '.' or '..'",
 *   and "index name is too long, (<n> > 255)"
 */
export function validateIndexName(index: string): void {
  if (INVALID_CHARS.some((c) => index.includes(c))) throw new InvalidIndexNameError(index, `must not contain the following characters ${INVALID_CHARS_TEXT}`);
  if (index.includes('#')) throw new InvalidIndexNameError(index, "must not contain '#'");
  if (index.includes(':')) throw new InvalidIndexNameError(index, "must not contain ':'");
  if (index.startsWith('_') || index.startsWith('-') || index.startsWith('+')) throw new InvalidIndexNameError(index, "must not start with '_', '-', or '+'");
  if (index.toLowerCase() !== index) throw new InvalidIndexNameError(index, 'must be lowercase');
  if (index === '.' || index === '..') throw new InvalidIndexNameError(index, "must not be '.' or '..'");
  const bytes = Buffer.byteLength(index, 'utf8');
  if (bytes > MAX_INDEX_NAME_BYTES) throw new InvalidIndexNameError(index, `index name is too long, (${bytes} > ${MAX_INDEX_NAME_BYTES})`);
}
