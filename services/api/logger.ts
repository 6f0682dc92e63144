export type LogFields = Record<string, unknown>;

export interface Logger {
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

type Level = "info" | "warn" | "error";

// Errors serialise to "{}" with JSON.stringify; keep what an operator needs.
function describe(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const cause = value.cause === undefined ? undefined : describe(value.cause);
  return { name: value.name, message: value.message, ...(cause === undefined ? {} : { cause }) };
}

/** One JSON object per line, so the output greps and parses alike. */
export function createJsonLogger(write: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Logger {
  const emit = (level: Level, event: string, fields: LogFields = {}) => {
    const entry: LogFields = { time: new Date().toISOString(), level, event };
    for (const [key, value] of Object.entries(fields)) entry[key] = describe(value);
    write(JSON.stringify(entry));
  };
  return {
    info: (event, fields) => emit("info", event, fields),
    warn: (event, fields) => emit("warn", event, fields),
    error: (event, fields) => emit("error", event, fields),
  };
}
