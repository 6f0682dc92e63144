/**
 * Server log lines. Errors are summarised by name, code and message (and those of their cause), never
 * dumped whole: an error object can carry a request or response that holds a token.
 */

export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const head = `${error.name}${typeof code === "string" ? ` [${code}]` : ""}: ${error.message}`;
  return error.cause instanceof Error ? `${head} (cause: ${describeError(error.cause)})` : head;
}

export function logError(scope: string, message: string, error?: unknown): void {
  console.error(`[${scope}] ${message}${error === undefined ? "" : `: ${describeError(error)}`}`);
}

export function logInfo(scope: string, message: string): void {
  console.info(`[${scope}] ${message}`);
}
