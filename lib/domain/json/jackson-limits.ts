/**
 * Jackson's `StreamReadConstraints` as Elasticsearch runs them (nesting depth, number length)
 * and the error-token length cap, with the reference text their messages end with.
 */

/** Jackson's nesting limit (`StreamReadConstraints.DEFAULT_MAX_DEPTH`): the 1001st open container fails. */
export const MAX_NESTING_DEPTH = 1000;
/** Jackson's number length limit (`StreamReadConstraints.DEFAULT_MAX_NUM_LEN`), in digits. */
export const MAX_NUMBER_LENGTH = 1000;
/** Jackson's `ErrorReportConfiguration.DEFAULT_MAX_ERROR_TOKEN_LENGTH`: longer tokens are cut and end with `...`. */
export const MAX_ERROR_TOKEN_LENGTH = 256;
export const constraintRef = (method: string): string => `\`StreamReadConstraints.${method}()\``;
