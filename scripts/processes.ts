/**
 * Processes for the benchmark and the end-to-end suite: started in their own process groups with their output in
 * log files, ready when their URL answers, stopped with the whole group. Memory is read from `/proc` (Linux).
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, writeSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";

export interface Service {
  name: string;
  /** The process group leader we spawned. */
  pid: number;
  logFile: string;
  /** SIGTERM to the whole group, SIGKILL after 5 s. */
  stop(): Promise<void>;
  /** SIGKILL to the whole group at once, as a crash would end it. */
  kill(): Promise<void>;
}

export interface ServiceSpec {
  name: string;
  /** The program to run: by default this Node.js, with `args` its arguments. */
  command?: string;
  args: string[];
  env: Record<string, string>;
  /** Answers below 500 here mean ready; or a check of its own, for a service that does not speak HTTP. */
  ready: string | (() => Promise<boolean>);
  logFile: string;
  timeoutMs?: number;
  /** Print the output too, each line labelled with the service's name (it always goes to `logFile`). */
  echo?: boolean;
}

const running = new Set<Service>();

/** Process groups must not outlive the benchmark, however it ends. */
process.once("exit", () => {
  for (const service of running) killGroup(service.pid, "SIGKILL");
});

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

export function logTail(file: string, lines = 30): string {
  if (!existsSync(file)) return "";
  return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

export async function assertPortFree(port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once("error", () => reject(new Error(`port ${port} is in use: is another benchmark or server running?`)));
    server.listen(port, () => server.close(() => resolve()));
  });
}

/** Runs `node args...` to completion, output to `logFile`; rejects with the log's tail on failure. */
export async function runToCompletion(name: string, args: string[], env: Record<string, string>, logFile: string): Promise<void> {
  const log = openSync(logFile, "w");
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ["ignore", log, log] });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("exit", resolve);
  });
  closeSync(log);
  if (code !== 0) throw new Error(`${name} failed (exit ${code}); see ${logFile}:\n${logTail(logFile)}`);
}

export async function startService({ name, command = process.execPath, args, env, ready, logFile, timeoutMs = 60_000, echo = false }: ServiceSpec): Promise<Service> {
  const log = openSync(logFile, "w");
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ["ignore", echo ? "pipe" : log, echo ? "pipe" : log], detached: true });
  if (echo) {
    const label = `[${name}] `;
    for (const stream of [child.stdout, child.stderr]) {
      let partial = "";
      stream?.on("data", (chunk: Buffer) => {
        writeSync(log, chunk);
        const lines = (partial + chunk.toString()).split("\n");
        partial = lines.pop() ?? "";
        for (const line of lines) process.stdout.write(`${label}${line}\n`);
      });
    }
    child.once("exit", () => closeSync(log));
  } else {
    closeSync(log);
  }
  if (child.pid === undefined) throw new Error(`${name} did not start`);
  const pid = child.pid;
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );

  const service: Service = {
    name,
    pid,
    logFile,
    async stop() {
      running.delete(service);
      if (exited) return;
      killGroup(pid, "SIGTERM");
      const timer = setTimeout(() => killGroup(pid, "SIGKILL"), 5_000);
      await exit;
      clearTimeout(timer);
    },
    async kill() {
      running.delete(service);
      if (exited) return;
      killGroup(pid, "SIGKILL");
      await exit;
    },
  };
  running.add(service);

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`${name} exited during start-up; see ${logFile}:\n${logTail(logFile)}`);
    if (await isReady(ready)) return service;
    if (Date.now() > deadline) {
      await service.stop();
      throw new Error(`${name} was not ready${typeof ready === "string" ? ` at ${ready}` : ""} within ${timeoutMs / 1000} s; see ${logFile}:\n${logTail(logFile)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function isReady(ready: ServiceSpec["ready"]): Promise<boolean> {
  try {
    if (typeof ready !== "string") return await ready();
    const response = await fetch(ready, { redirect: "manual", signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    return response.status < 500;
  } catch {
    // Not listening yet.
    return false;
  }
}

function children(pid: number): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name is in parentheses and may contain spaces: the parent pid follows the last ")".
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      if (Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid) found.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return found;
}

/**
 * The process that serves the web app: `next start` renames itself `next-server`, and may do so in a
 * child depending on how it was launched. `undefined` where `/proc` is not available.
 */
export function findNextServer(rootPid: number): number | undefined {
  if (!existsSync("/proc")) return undefined;
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").startsWith("next-server")) return pid;
    } catch {
      continue;
    }
    queue.push(...children(pid));
  }
  return undefined;
}

export interface Memory {
  /** Resident set size now, bytes. */
  rss: number;
  /** Peak resident set size since the process started (`VmHWM`), bytes. */
  peak: number;
}

export function readMemory(pid: number): Memory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN) * 1024;
    const memory = { rss: field("VmRSS"), peak: field("VmHWM") };
    return Number.isFinite(memory.rss) && Number.isFinite(memory.peak) ? memory : undefined;
  } catch {
    return undefined;
  }
}

export interface TesseraProcesses {
  env: Record<string, string>;
  /** Where each process answers once ready: the IdP's discovery (its issuer may be another address), the API's health, the web app. */
  ready: { idp: string; api: string; web: string };
  logFile: (name: "idp" | "api" | "web") => string;
}

/**
 * The dev IdP and the API, then the web app from the existing production build (`.next`), as a stack of their
 * own: `[idp, api, web]`. If one fails to start, those already started are stopped.
 */
export async function startTessera({ env, ready, logFile }: TesseraProcesses): Promise<Service[]> {
  const nextBin = createRequire(import.meta.url).resolve("next/dist/bin/next");
  const services: Service[] = [];
  try {
    services.push(
      ...(await Promise.all([
        startService({ name: "idp", args: ["--import", "tsx", "services/idp/server.ts"], env, ready: ready.idp, logFile: logFile("idp") }),
        startService({ name: "api", args: ["--import", "tsx", "services/api/server.ts"], env, ready: ready.api, logFile: logFile("api") }),
      ])),
    );
    services.push(await startService({ name: "web", args: [nextBin, "start"], env, ready: ready.web, logFile: logFile("web") }));
    return services;
  } catch (error) {
    await Promise.all(services.map((service) => service.stop()));
    throw error;
  }
}
