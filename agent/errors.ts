/**
 * One error class for everything Spool raises on purpose. `code` says what
 * went wrong in a word a caller can switch on; the message says it in words
 * an operator understands.
 */
export type SpoolErrorCode =
  | 'CONFIG_INVALID'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'INVALID_STATE'
  | 'FFMPEG_MISSING'
  | 'INTERNAL';

export class SpoolError extends Error {
  override readonly name = 'SpoolError';
  readonly code: SpoolErrorCode;

  constructor(code: SpoolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Whatever was thrown, as an Error (graphile-worker's habit: every catch goes through this). */
export function coerceError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  return new Error(typeof thrown === 'string' ? thrown : JSON.stringify(thrown));
}

/** The errno code of a Node system error, if any. */
export function errnoCode(thrown: unknown): string | undefined {
  const code = (thrown as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
