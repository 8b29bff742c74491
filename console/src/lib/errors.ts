/**
 * Errors from an appliance, already in words an operator understands. The
 * agent's own messages for expected errors (INVALID_STATE, FORBIDDEN, …) are
 * written for people, so they are shown as they are; transport failures get
 * a sentence that says what to check.
 */
export type ApiErrorCode = 'NETWORK' | 'TIMEOUT' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'INVALID_STATE' | 'BAD_USER_INPUT' | 'SERVER';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    message: string,
    readonly code: ApiErrorCode,
    readonly status?: number,
  ) {
    super(message);
  }
}

const KNOWN: ReadonlySet<string> = new Set(['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'INVALID_STATE', 'BAD_USER_INPUT']);

/** The error of a GraphQL or route answer (`{ errors: [{ message, extensions: { code } }] }`). */
export function errorFromBody(where: string, status: number, body: unknown): ApiError {
  const first = (body as { errors?: { message?: string; extensions?: { code?: string } }[] } | null)?.errors?.[0];
  const code = first?.extensions?.code ?? (status === 401 ? 'UNAUTHENTICATED' : status === 403 ? 'FORBIDDEN' : 'SERVER');
  if (code === 'UNAUTHENTICATED') return new ApiError(`${where} does not accept this token. Edit the appliance and paste a valid one.`, 'UNAUTHENTICATED', status);
  const message = first?.message ?? `${where} answered HTTP ${status}`;
  return new ApiError(message, KNOWN.has(code) ? (code as ApiErrorCode) : 'SERVER', status);
}

/** A failed fetch: the appliance is down, the URL is wrong, or it answered too slowly. */
export function networkError(where: string, thrown: unknown, timeoutMs: number): ApiError {
  if ((thrown as Error)?.name === 'TimeoutError') return new ApiError(`${where} did not answer within ${Math.round(timeoutMs / 1000)} s.`, 'TIMEOUT');
  return new ApiError(`Cannot reach ${where}: it is offline, or the URL is wrong.`, 'NETWORK');
}

/** Any thrown value as a sentence for the screen. */
export function describeError(thrown: unknown): string {
  if (thrown instanceof Error) return thrown.message;
  return String(thrown);
}
