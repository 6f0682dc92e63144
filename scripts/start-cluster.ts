/**
 * `npm run start:cluster`: Tessera as a deployment of several instances runs, on this machine. One production
 * build; then redis-server, the dev IdP, the API, two web instances and nginx round-robin in front of them at
 * http://localhost:3000 (see scripts/cluster.ts and deploy/nginx.conf). Every line of output is labelled with
 * its process; Ctrl-C stops them all.
 *
 * Production mode needs real secrets: they are generated at the first start into `.data/cluster/secrets.json`
 * (git-ignored) and kept, so a restart keeps everyone signed in.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { missingClusterCommands, startCluster, type ClusterPorts } from "./cluster";
import { assertPortFree, runToCompletion } from "./processes";

const DATA_DIR = ".data/cluster";
const PORTS: ClusterPorts = { lb: 3000, web: [3001, 3002], idp: 4000, api: 4001, redis: 6380 };

function say(message: string): void {
  console.log(`[cluster] ${message}`);
}

function secrets(): Record<string, string> {
  const file = path.join(DATA_DIR, "secrets.json");
  if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8")) as Record<string, string>;
  const generated = { AUTH_SECRET: randomBytes(48).toString("base64url"), OIDC_CLIENT_SECRET: randomBytes(32).toString("base64url") };
  writeFileSync(file, JSON.stringify(generated, null, 2), { mode: 0o600 });
  say(`generated this cluster's secrets into ${file}`);
  return generated;
}

async function main(): Promise<void> {
  const missing = missingClusterCommands();
  if (missing.length > 0) throw new Error(`not found on PATH: ${missing.join("; ")}`);
  for (const port of [PORTS.lb, ...PORTS.web, PORTS.idp, PORTS.api, PORTS.redis]) await assertPortFree(port);
  mkdirSync(path.join(DATA_DIR, "logs"), { recursive: true });
  // The dev IdP registers its client from these same variables.
  const env = { OIDC_CLIENT_ID: "tessera-bff", ...secrets() };

  say("next build (one build for every instance) ...");
  const nextBin = createRequire(import.meta.url).resolve("next/dist/bin/next");
  await runToCompletion("next build", [nextBin, "build"], { NODE_ENV: "production" }, path.join(DATA_DIR, "logs", "build.log"));
  say("starting redis-server, the IdP, the API, two web instances and nginx ...");
  const cluster = await startCluster({ ports: PORTS, dataDir: DATA_DIR, env, echo: true });
  say(`ready: ${cluster.url} (nginx, round-robin over ${cluster.instanceUrls.join(" and ")}); sign in as alice / wonderland. Ctrl-C stops.`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    say("stopping ...");
    void cluster.stop().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((error: unknown) => {
  console.error(`[cluster] cannot start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
