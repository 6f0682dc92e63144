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
