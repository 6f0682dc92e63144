/**
 * A throwaway `redis-server` on loopback, for the tests that need the real thing (its Lua scripting and expiry):
 * the web app's and the API's Redis stores alike.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { accessSync, constants } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";

const INSTALL_HINT = "install it with `sudo apt-get install redis-server` (Debian/Ubuntu) or `brew install redis` (macOS)";

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    if (dir === "") continue;
    const candidate = path.join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this folder; try the next.
    }
  }
  return undefined;
}

const REDIS_SERVER = onPath("redis-server");

/**
 * Whether the Redis tests can run. Without `redis-server` they are skipped with a message saying how to install it,
 * except on CI (`CI` set), where a missing server means a broken build rather than a reason to skip.
 */
export function redisServerAvailable(): boolean {
  if (REDIS_SERVER !== undefined) return true;
  if (process.env.CI) throw new Error(`redis-server is not on PATH, and on CI the Redis tests must run: ${INSTALL_HINT}`);
  console.warn(`Skipping the Redis tests: redis-server is not on PATH; ${INSTALL_HINT}.`);
  return false;
}

export interface RedisServer {
  url: string;
  /** Stops the server; safe to call twice. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const address = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no TCP port assigned");
  return address.port;
}

const READY = "Ready to accept connections";

function launch(binary: string, port: number): Promise<RedisServer> {
  // No persistence: nothing is written to disk, and each server starts empty.
  const child = spawn(binary, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // A test run that dies must not leave servers behind.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const stop = async () => {
    process.off("exit", killOnExit);
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
  };

  let output = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`redis-server did not start within 10 s:\n${output}`));
    }, 10_000);
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(READY)) {
        clearTimeout(timer);
        resolve({ url: `redis://127.0.0.1:${port}`, stop });
      }
    };
    child.stdout.on("data", collect);
    child.stderr.on("data", collect);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited before it was ready:\n${output}`));
    });
  });
}

/** Starts a server on a free loopback port; another process may take the port first, so a few ports are tried. */
export async function startRedisServer(): Promise<RedisServer> {
  if (REDIS_SERVER === undefined) throw new Error(`redis-server is not on PATH: ${INSTALL_HINT}`);
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await launch(REDIS_SERVER, await freePort());
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/** What `useRedisServer` needs of a client: ioredis's, whichever options the caller's connector gives it. */
interface Client {
  status: string;
  disconnect(): void;
  once(event: "ready", listener: () => void): unknown;
}

/**
 * For the enclosing `describe`: a throwaway server started before its tests and stopped after them. `client` opens
 * a connection with the caller's own connector (so the client under test is configured as the app configures it),
 * resolves once it is ready, and disconnects it when the tests are done.
 */
export function useRedisServer<C extends Client>(connect: (url: string) => C) {
  let server: RedisServer | undefined;
  const clients: C[] = [];
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    await server?.stop();
  });
  const url = (): string => {
    if (!server) throw new Error("the redis-server has not started: use it inside the describe's tests");
    return server.url;
  };
  return {
    url,
    async client(at: string = url()): Promise<C> {
      const client = connect(at);
      clients.push(client);
      if (client.status !== "ready") await once(client as unknown as NodeJS.EventEmitter, "ready");
      return client;
    },
  };
}
