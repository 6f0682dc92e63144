#!/usr/bin/env node
// Usage: node scripts/run-logged.mjs <log file> -- <command> [args...]
//
// Runs the command with its stdout and stderr passed through unchanged, and also appends both to the log file,
// so that a test can later read everything a server printed (the end-to-end suite scans them for tokens).
// Writes are synchronous: Playwright stops its servers with SIGKILL to the whole process group, which would
// lose anything still buffered. The command stays in this process group, so that kill reaches it too.
import { spawn } from "node:child_process";
import { mkdirSync, openSync, writeSync } from "node:fs";
import path from "node:path";

const [file, separator, command, ...args] = process.argv.slice(2);
if (!file || separator !== "--" || !command) {
  console.error("usage: node scripts/run-logged.mjs <log file> -- <command> [args...]");
  process.exit(2);
}

mkdirSync(path.dirname(file), { recursive: true });
const log = openSync(file, "a");

const child = spawn(command, args, { stdio: ["inherit", "pipe", "pipe"] });
for (const [from, to] of [
  [child.stdout, process.stdout],
  [child.stderr, process.stderr],
]) {
  from.on("data", (chunk) => {
    writeSync(log, chunk);
    to.write(chunk);
  });
}

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
child.on("error", (error) => {
  console.error(`run-logged: cannot start ${command}: ${error.message}`);
  process.exit(127);
});
child.on("close", (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
