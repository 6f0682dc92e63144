/** Where the IdP writes its operational messages; tests pass a silent or recording one. */
export type Logger = Pick<Console, "info" | "warn" | "error">;
