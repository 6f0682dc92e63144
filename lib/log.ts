/**
 * Server log lines. Errors are summarised by name, code and message (and those of their cause), never
 * dumped whole: an error object can carry a request or response that holds a token.
 */

/**
 * Auth.js's errors carry their name in `type`, since a production build minifies class names, and wrap
 * the error that actually happened as `cause.err` rather than as `cause`.
 */
function isAuthJsError(error: Error): error is Error & { type: string; cause?: { err?: unknown } } {
  const { type, kind } = error as { type?: unknown; kind?: unknown };
  return typeof type === "string" && typeof kind === "string";
}

export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // A JSON parser's message quotes the text it could not parse: an answer that may hold a token.
  if (error instanceof SyntaxError) return "SyntaxError (its message, which may quote what was parsed, is left out)";
  const code = (error as { code?: unknown }).code;
  const name = isAuthJsError(error) ? error.type : error.name;
  const head = `${name}${typeof code === "string" ? ` [${code}]` : ""}: ${error.message}`;
  const cause = isAuthJsError(error) ? error.cause?.err : error.cause;
  return cause instanceof Error ? `${head} (cause: ${describeError(cause)})` : head;
}

export function logError(scope: string, message: string, error?: unknown): void {
  console.error(`[${scope}] ${message}${error === undefined ? "" : `: ${describeError(error)}`}`);
}

export function logInfo(scope: string, message: string): void {
  console.info(`[${scope}] ${message}`);
}
