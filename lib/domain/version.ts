/**
 * The Elasticsearch version this control plane impersonates. It is shown in the root
 * `GET /` answer, in `job_version` of new jobs and in the `Warning` header
 * (`299 Elasticsearch-<number>-<build_hash> "<text>"`).
 *
 * `build_hash` is a fixed placeholder: mlplane is not an Elasticsearch build, and clients
 * (including `@elastic/elasticsearch`) never check it.
 */
export const ES_VERSION = {
  number: '9.4.3',
  build_flavor: 'default',
  build_type: 'docker',
  build_hash: '0000000000000000000000000000000000000000',
  build_date: '2026-01-01T00:00:00.000Z',
  build_snapshot: false,
  lucene_version: '10.2.2',
  minimum_wire_compatibility_version: '8.19.0',
  minimum_index_compatibility_version: '8.0.0',
} as const;

/** Shape of {@link ES_VERSION}. */
export type EsVersion = typeof ES_VERSION;
