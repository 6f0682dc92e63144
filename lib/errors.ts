/**
 * An error with a stable, machine-readable `code` for callers to branch on; the message is for the log.
 * Subclasses set `name` as a literal: a production build minifies class names.
 */
export class CodedError<Code extends string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * `error` and the errors it was caused by, outermost first, following Auth.js's wrapping (it keeps the error that
 * happened as `cause.err`); a few levels at most.
 */
export function* causeChain(error: unknown): Generator<object> {
  let current = error;
  for (let depth = 0; depth < 8 && typeof current === "object" && current !== null; depth += 1) {
    yield current;
    const cause = (current as { cause?: unknown }).cause;
    current = (cause as { err?: unknown } | undefined)?.err ?? cause;
  }
}
