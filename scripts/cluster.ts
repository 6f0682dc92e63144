/**
 * Several web instances behind nginx, sharing one Redis: what `npm run start:cluster` runs, and what the
 * end-to-end suite's cluster tests run (on ports of their own). From one production build (`.next`):
 * redis-server, the dev IdP, the API, `instances` web processes and nginx round-robin in front of them, with
 * `deploy/nginx.conf` filled in. Every service starts in its own process group, on loopback, with its output in
 * `<dataDir>/logs/`; nginx runs unprivileged from `<dataDir>/nginx/`, in the foreground.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { connect } from "node:net";
import path from "node:path";
import { startService, type Service } from "./processes";

export interface ClusterPorts {
  /** nginx, the public address (`AUTH_URL`). */
  lb: number;
  /** One per web instance. */
  web: number[];
  idp: number;
  api: number;
  redis: number;
  /** A second nginx, from the same file, in front of the first web instance alone: one instance's throughput behind the same proxy, beside the cluster's (the benchmark). */
  soloLb?: number;
}

export interface ClusterOptions {
  ports: ClusterPorts;
  dataDir: string;
  /** Environment shared by every process (secrets, token lifetimes, test hooks). */
  env: Record<string, string>;
  /** Share state through Redis (the default); without, each instance keeps its own, as one instance alone would. */
  redis?: boolean;
  /** Print every service's output, labelled, as well as logging it. */
  echo?: boolean;
  /** Where the services' output goes; `<dataDir>/logs` by default. */
  logs?: string;
}

export interface Cluster {
  /** `http://localhost:<lb>`: the address users and `AUTH_URL` use. */
  url: string;
  /** The nginx in front of the first instance alone, when `ports.soloLb` is given. */
  soloUrl: string | undefined;
  instanceUrls: string[];
  idpUrl: string;
  apiUrl: string;
  redisUrl: string | undefined;
  logFile(name: string): string;
  /** The environment web instance `index` runs with. */
  instanceEnv(index: number): Record<string, string>;
  /** Stops one web instance (`index` from 0), as a crash would (SIGKILL), or politely. */
  stopInstance(index: number, options?: { kill?: boolean }): Promise<void>;
  startInstance(index: number): Promise<void>;
  stopRedis(): Promise<void>;
  startRedis(): Promise<void>;
  stop(): Promise<void>;
}

const ROOT = path.resolve(import.meta.dirname, "..");

/** What a cluster needs beyond Node.js, with how to install it. */
export const CLUSTER_COMMANDS: Record<string, string> = {
  "redis-server": "sudo apt-get install redis-server (Debian/Ubuntu) or brew install redis (macOS)",
  nginx: "sudo apt-get install nginx-light (Debian/Ubuntu) or brew install nginx (macOS)",
};

/** The commands a cluster needs that are not on PATH, each with its install hint. */
export function missingClusterCommands(): string[] {
  const dirs = (process.env.PATH ?? "").split(path.delimiter).filter((dir) => dir !== "");
  return Object.entries(CLUSTER_COMMANDS)
    .filter(([command]) => !dirs.some((dir) => existsSync(path.join(dir, command))))
    .map(([command, hint]) => `${command} (install: ${hint})`);
}
const NGINX_TEMPLATE = path.join(ROOT, "deploy", "nginx.conf");

/** `deploy/nginx.conf` with its placeholders filled in. */
export function nginxConfig(template: string, { listen, upstreams, runDir }: { listen: number; upstreams: number[]; runDir: string }): string {
  const values: Record<string, string> = {
    LISTEN: `127.0.0.1:${listen}`,
    UPSTREAM_SERVERS: upstreams.map((port) => `server 127.0.0.1:${port} max_fails=1 fail_timeout=2s;`).join("\n    "),
    RUN_DIR: runDir,
  };
  return template.replace(/\{\{([A-Z_]+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`deploy/nginx.conf: unknown placeholder {{${name}}}`);
    return value;
  });
}

/** Whether redis-server answers PING on `port`. */
function redisAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => done(data.toString().startsWith("+PONG")));
  });
}

export async function startCluster({ ports, dataDir, env, redis = true, echo = false, logs = path.join(dataDir, "logs") }: ClusterOptions): Promise<Cluster> {
  mkdirSync(logs, { recursive: true });
  const logFile = (name: string) => path.join(logs, `${name}.log`);
  const url = `http://localhost:${ports.lb}`;
  const soloUrl = ports.soloLb === undefined ? undefined : `http://localhost:${ports.soloLb}`;
  const idpUrl = `http://localhost:${ports.idp}`;
  const apiUrl = `http://localhost:${ports.api}`;
  const redisUrl = redis ? `redis://127.0.0.1:${ports.redis}` : undefined;
  const nextBin = createRequire(import.meta.url).resolve("next/dist/bin/next");

  const shared = {
    NODE_ENV: "production",
    AUTH_URL: url,
    OIDC_ISSUER: idpUrl,
    API_URL: apiUrl,
    API_AUDIENCE: apiUrl,
    IDP_PORT: String(ports.idp),
    API_PORT: String(ports.api),
    DATA_DIR: dataDir,
    ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    ...env,
  };

  const services = new Map<string, Service>();
  const start = async (name: string, spec: Omit<Parameters<typeof startService>[0], "name" | "logFile" | "echo">) => {
    services.set(name, await startService({ name, logFile: logFile(name), echo, ...spec }));
  };
  const stopService = async (name: string, kill = false) => {
    const service = services.get(name);
    services.delete(name);
    if (service) await (kill ? service.kill() : service.stop());
  };
  const startRedis = () =>
    start("redis", {
      command: "redis-server",
      // Nothing is written to disk: each start is empty, as a Redis that lost its data would be. No eviction:
      // an entry that decides correctness (an ended session, a spent refresh token) is never dropped for room.
      args: ["--port", String(ports.redis), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction"],
      env: {},
      ready: () => redisAnswers(ports.redis),
    });
  const instanceName = (index: number) => `web-${index + 1}`;
  // Without Redis, each instance has a folder of its own, as separate machines would.
  const instanceEnv = (index: number) => ({ ...shared, PORT: String(ports.web[index]), ...(redisUrl ? {} : { DATA_DIR: path.join(dataDir, instanceName(index)) }) });
  const startInstance = (index: number) =>
    start(instanceName(index), { args: [nextBin, "start"], env: instanceEnv(index), ready: `http://localhost:${ports.web[index]}/healthz` });

  // Each nginx has a folder of its own: the file puts its pid and temporary files there.
  const startNginx = async (name: string, listen: number, upstreams: number[]) => {
    const runDir = path.resolve(dataDir, name);
    mkdirSync(runDir, { recursive: true });
    const config = path.join(runDir, "nginx.conf");
    writeFileSync(config, nginxConfig(readFileSync(NGINX_TEMPLATE, "utf8"), { listen, upstreams, runDir }));
    await start(name, { command: "nginx", args: ["-p", runDir, "-c", config, "-e", path.join(runDir, "error.log"), "-g", "daemon off;"], env: {}, ready: `http://localhost:${listen}/healthz` });
  };

  const stop = async () => {
    await Promise.all([...services.keys()].map((name) => stopService(name)));
  };
  try {
    if (redisUrl) await startRedis();
    await Promise.all([
      start("idp", { args: ["--import", "tsx", "services/idp/server.ts"], env: shared, ready: `${idpUrl}/.well-known/openid-configuration` }),
      start("api", { args: ["--import", "tsx", "services/api/server.ts"], env: shared, ready: `${apiUrl}/healthz` }),
    ]);
    await Promise.all(ports.web.map((_, index) => startInstance(index)));
    await startNginx("nginx", ports.lb, ports.web);
    if (ports.soloLb !== undefined) await startNginx("nginx-solo", ports.soloLb, ports.web.slice(0, 1));
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    url,
    soloUrl,
    instanceUrls: ports.web.map((port) => `http://localhost:${port}`),
    idpUrl,
    apiUrl,
    redisUrl,
    logFile,
    instanceEnv,
    stopInstance: (index, { kill = false } = {}) => stopService(instanceName(index), kill),
    startInstance,
    stopRedis: () => stopService("redis"),
    startRedis,
    stop,
  };
}
