/**
 * `npm run bench`: what authentication costs per request, as ratios measured side by side on a
 * production build of web, API and IdP. `npm run bench -- --smoke` is a short run that checks the
 * benchmark still works; `--no-build` reuses the `.next` of a previous build of the same code.
 *
 * 1. `GET /api/notes` with a signed-in browser's cookies (session read, Bearer forward; the middleware only
 *    once the token is due, see lib/session/fresh-hint.ts) against `/bench/notes`, the same forwarding with a token
 *    obtained beforehand, no cookies and no middleware. 1b: the same request when the middleware does run.
 * 2. `/dashboard` through the middleware against the same page left out by the matcher. 2b: the page through
 *    a middleware that returns at once, which is what Next.js charges for running any middleware.
 * 3. The API's `GET /me` with a valid token against its unauthenticated `GET /healthz`.
 * 4. Silent refresh: many sessions under load with short-lived tokens; refresh grants must equal expiries.
 * 5. Two web instances behind nginx, sharing Redis (scripts/cluster.ts, what `npm run start:cluster` runs):
 *    `GET /api/notes` through nginx over both against the same through nginx over one of them, reported without
 *    a target (on a small machine the instances share its cores with everything else); then phase 4 through nginx,
 *    where every expiry meets both instances at once and they must still make one refresh of it between them.
 * Plus sizes, the web process's peak memory, and the session codec against Auth.js's, per call.
 *
 * Everything runs on its own ports and data folder, so it never meets `npm run dev`, `npm run start:cluster` or
 * the end-to-end suite. Results go to `.bench/results.{md,json}`; logs of every process to `.bench/logs/`. Exits 1
 * when the benchmark could not run or a correctness check failed (refresh, cookie rewrites); a missed ratio target
 * is reported only.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createSessionCodec } from "@/lib/session/codec";
import { COOKIE_NAMES, joinChunks } from "@/lib/session/cookies";
import { sessionFromPayload, sessionPayload } from "@/lib/session/session";
import { Browser, signIn, type Credentials } from "./browser";
import { codecCosts } from "./codec";
import { compare, type LoadSettings, type Target } from "./load";
import { missingClusterCommands, startCluster, type Cluster, type ClusterPorts } from "../scripts/cluster";
import { assertPortFree, findNextServer, readMemory, runToCompletion, startTessera, type Memory, type Service } from "../scripts/processes";
import { ensureTestHooksToken, testHooksHeaders } from "../scripts/test-hooks";
import { refreshUnderLoad, type RefreshResult, type RefreshSettings } from "./refresh";
import { toMarkdown, type RatioResult, type Report } from "./report";
import { cookieWrites, measureSizes } from "./sizes";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const OUT = path.join(ROOT, ".bench");
const LOGS = path.join(OUT, "logs");
const DATA_DIR = ".data/bench";

const PORTS = { web: 3200, idp: 4200, api: 4201 } as const;
const WEB = new URL(`http://localhost:${PORTS.web}`);
const IDP = new URL(`http://localhost:${PORTS.idp}`);
const API = new URL(`http://127.0.0.1:${PORTS.api}`);
const CLUSTER_PORTS = { lb: 3210, web: [3211, 3212], soloLb: 3213, idp: 4210, api: 4211, redis: 6391 } satisfies ClusterPorts;
const CLUSTER_DATA_DIR = path.join(DATA_DIR, "cluster");
// Benchmark-only values: these processes live for one run on loopback.
const AUTH_SECRET = "bench-only-auth-secret-0123456789abcdef0123456789";
const USERS: Credentials[] = [
  { username: "alice", password: "wonderland" },
  { username: "bob", password: "builder" },
];

type RefreshLoad = Pick<RefreshSettings, "connectionsPerSession" | "seconds" | "accessTokenTtl"> & { sessions: number };

const MODES = {
  full: {
    load: { connections: 10, rounds: 5, seconds: 5, warmupSeconds: 3 },
    refresh: { sessions: 50, connectionsPerSession: 2, seconds: 60, accessTokenTtl: 10 },
    codecIterations: 2000,
  },
  smoke: {
    load: { connections: 10, rounds: 2, seconds: 1, warmupSeconds: 1 },
    refresh: { sessions: 10, connectionsPerSession: 2, seconds: 15, accessTokenTtl: 6 },
    codecIterations: 200,
  },
} satisfies Record<string, { load: LoadSettings; refresh: RefreshLoad; codecIterations: number }>;

/** Long enough that no token is refreshed during the ratio measurements. */
const LONG_TTL = 3600;

const started = Date.now();
function progress(message: string): void {
  console.log(`[${String(Math.round((Date.now() - started) / 1000)).padStart(4)} s] ${message}`);
}

/** What the one-instance stack and the cluster both run with; production mode refuses the development secrets. */
function benchEnv(accessTokenTtl: number): Record<string, string> {
  return {
    AUTH_SECRET,
    OIDC_CLIENT_ID: "tessera-bff",
    OIDC_CLIENT_SECRET: "bench-only-client-secret-0123456789abcdef",
    IDP_TEST_HOOKS: "1",
    TEST_HOOKS_TOKEN: ensureTestHooksToken(),
    ACCESS_TOKEN_TTL: String(accessTokenTtl),
  };
}

function stackEnv(accessTokenTtl: number): Record<string, string> {
  return {
    NODE_ENV: "production",
    PORT: String(PORTS.web),
    IDP_PORT: String(PORTS.idp),
    API_PORT: String(PORTS.api),
    AUTH_URL: WEB.origin,
    OIDC_ISSUER: IDP.origin,
    API_URL: API.origin,
    API_AUDIENCE: API.origin,
    ...benchEnv(accessTokenTtl),
    DATA_DIR,
    BENCHMARK_ROUTES: "1",
    // The embedded stores, whatever the shell has: the benchmark measures this app, not a Redis round trip.
    REDIS_URL: "",
  };
}

const nextBin = createRequire(import.meta.url).resolve("next/dist/bin/next");

interface Stack {
  services: Service[];
  webPid: number | undefined;
  webStart: Memory | undefined;
}

async function startStack(accessTokenTtl: number, phase: string): Promise<Stack> {
  const services = await startTessera({
    env: stackEnv(accessTokenTtl),
    ready: { idp: `${IDP.origin}/.well-known/openid-configuration`, api: `${API.origin}/healthz`, web: WEB.href },
    logFile: (name) => path.join(LOGS, `${name}-${phase}.log`),
  });
  const webPid = findNextServer(services[2]!.pid);
  return { services, webPid, webStart: webPid === undefined ? undefined : readMemory(webPid) };
}

async function stopStack(stack: Stack): Promise<{ start: Memory; end: Memory } | undefined> {
  const end = stack.webPid === undefined ? undefined : readMemory(stack.webPid);
  await Promise.all(stack.services.map((service) => service.stop()));
  return stack.webStart && end ? { start: stack.webStart, end } : undefined;
}

/** A cluster of its own for `phase` (a fresh IdP, Redis and data folder), stopped once `task` ends, however it ends. */
async function onCluster<T>(accessTokenTtl: number, phase: string, task: (cluster: Cluster) => Promise<T>): Promise<T> {
  const cluster = await startCluster({
    ports: CLUSTER_PORTS,
    dataDir: path.join(CLUSTER_DATA_DIR, phase),
    logs: path.join(LOGS, `cluster-${phase}`),
    env: benchEnv(accessTokenTtl),
  });
  try {
    return await task(cluster);
  } finally {
    await cluster.stop();
  }
}

async function getJson<T>(url: URL, init: RequestInit = {}): Promise<T> {
  const response = await fetch(url, init);
  if (!response.ok) throw new Error(`${url.pathname} answered ${response.status}`);
  return (await response.json()) as T;
}

async function expectOk(url: URL, headers: Record<string, string>, contains: string): Promise<void> {
  const response = await fetch(url, { headers, redirect: "manual" });
  const body = await response.text();
  if (response.status !== 200 || !body.includes(contains)) {
    throw new Error(`${url.pathname} answered ${response.status} without "${contains}": is BENCHMARK_ROUTES read, and the build current?`);
  }
}

function describeCommit(): string {
  try {
    const hash = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain"], { cwd: ROOT, encoding: "utf8" }).trim() !== "";
    return dirty ? `${hash} with uncommitted changes` : hash;
  } catch {
    return "unknown";
  }
}

async function inBatches<T>(count: number, batch: number, task: (index: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let first = 0; first < count; first += batch) {
    const indexes = Array.from({ length: Math.min(batch, count - first) }, (_, i) => first + i);
    results.push(...(await Promise.all(indexes.map(task))));
  }
  return results;
}

async function measureRatio(name: string, a: Target, b: Target, target: number | undefined, load: LoadSettings): Promise<RatioResult> {
  progress(`${name}: ${a.label} vs ${b.label}`);
  const result = await compare(a, b, load, (message) => progress(`  ${message}`));
  progress(`  ratio ${result.ratio.toFixed(2)}${target === undefined ? "" : ` (target ≥ ${target})`}`);
  return { ...result, name, baseline: b.label, target, pass: target === undefined ? undefined : result.ratio >= target };
}

/** Phase 4 against `web`, one instance or nginx in front of several: sessions signed in there, then driven with short-lived tokens. */
async function refreshPhase(web: URL, idp: URL, { sessions, connectionsPerSession, seconds, accessTokenTtl }: RefreshLoad): Promise<RefreshResult> {
  const browsers = await inBatches(sessions, 5, async (index) => {
    const browser = new Browser();
    await signIn(browser, web, USERS[index % USERS.length]!);
    return browser;
  });
  progress(`${sessions} sessions signed in at ${web.origin}; ${sessions * connectionsPerSession} connections for ${seconds} s`);
  const result = await refreshUnderLoad({
    web,
    idp,
    browsers,
    connectionsPerSession,
    seconds,
    accessTokenTtl,
    codec: createSessionCodec([AUTH_SECRET], COOKIE_NAMES.session),
    progress: (message) => progress(`  ${message}`),
  });
  progress(`  ${result.expiries} expiries, ${result.refreshGrants} refresh grants, ${result.refreshFailures} refresh failures, ${result.failedRequests} failed requests`);
  return result;
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const unknown = args.filter((arg) => arg !== "--smoke" && arg !== "--no-build");
  if (unknown.length > 0) throw new Error(`unknown option ${unknown.join(" ")}; use --smoke and/or --no-build`);
  const mode = args.includes("--smoke") ? "smoke" : "full";
  const settings = MODES[mode];

  process.chdir(ROOT);
  mkdirSync(LOGS, { recursive: true });
  // The cluster phase comes last: a missing program should stop the run before the first phase, not after the others.
  const missing = missingClusterCommands();
  if (missing.length > 0) throw new Error(`the two-instance phase needs, not found on PATH: ${missing.join("; ")}`);
  const { lb, web, soloLb, idp, api, redis } = CLUSTER_PORTS;
  for (const port of [...Object.values(PORTS), lb, ...web, soloLb, idp, api, redis]) await assertPortFree(port);
  rmSync(DATA_DIR, { recursive: true, force: true });
  progress(`${mode} run; web ${WEB.origin}, IdP ${IDP.origin}, API ${API.origin}; BENCHMARK_ROUTES=1 serves the /bench/* baselines`);
  progress(`two-instance phase: nginx ${lb} over web ${web.join(" and ")}, nginx ${soloLb} over ${web[0]} alone, IdP ${idp}, API ${api}, Redis ${redis}`);

  if (args.includes("--no-build")) {
    progress("reusing the existing production build (--no-build)");
  } else {
    progress("next build ...");
    await runToCompletion("next build", [nextBin, "build"], stackEnv(LONG_TTL), path.join(LOGS, "build.log"));
  }

  // Phases 1-3: long-lived tokens, one signed-in browser.
  progress("starting idp, api and web (access tokens live 1 h)");
  let stack = await startStack(LONG_TTL, "ratios");
  const memory: Report["memory"] = {};
  let ratios: RatioResult[];
  let sizes: Report["sizes"];
  let writes: Report["cookieWrites"];
  let payload: Record<string, unknown>;
  try {
    const browser = new Browser();
    const dashboardHtml = await signIn(browser, WEB, USERS[0]!);
    const cookie = browser.jar(WEB.origin).header("/");
    const { sub } = await getJson<{ sub: string }>(new URL("/api/me", WEB), { headers: { cookie, "x-csrf": "1" } });
    const { access_token: token } = await getJson<{ access_token: string }>(new URL(`/__test/tokens?sub=${encodeURIComponent(sub)}`, IDP), { headers: testHooksHeaders() });
    const bearer = { authorization: `Bearer ${token}` };
    progress(`signed in as ${USERS[0]!.username}`);

    await expectOk(new URL("/bench/notes", WEB), bearer, '"notes"');
    await expectOk(new URL("/bench/dashboard", WEB), { cookie }, "Hello,");
    await expectOk(new URL("/bench/passthrough", WEB), { cookie }, "Hello,");
    // The same browser once its freshness hint has lapsed: every request passes through the middleware.
    const cookieWithoutHint = browser.jar(WEB.origin).list("/").filter(({ name }) => name !== COOKIE_NAMES.fresh).map(({ name, value }) => `${name}=${value}`).join("; ");
    const writesPerRoute = mode === "smoke" ? 5 : 20;
    writes = {
      requests: 2 * writesPerRoute,
      writes:
        (await cookieWrites(browser, new URL("/api/notes", WEB), { "x-csrf": "1" }, writesPerRoute)) +
        (await cookieWrites(browser, new URL("/dashboard", WEB), {}, writesPerRoute)),
    };
    sizes = await measureSizes(browser, WEB, dashboardHtml);
    progress(`Cookie header ${sizes.cookieHeaderBytes} bytes; dashboard JS ${sizes.dashboardJsBytes} bytes; session cookie rewritten ${writes.writes}/${writes.requests}`);

    const dataRouteBaseline: Target = { label: "GET /bench/notes (token, no cookies, no middleware)", url: new URL("/bench/notes", WEB).href, headers: bearer };
    const pageBaseline: Target = { label: "GET /bench/dashboard (no middleware)", url: new URL("/bench/dashboard", WEB).href, headers: { cookie } };
    const comparisons: [string, Target, Target, number | undefined][] = [
      [
        "1. BFF data route",
        { label: "GET /api/notes (session cookie, token current)", url: new URL("/api/notes", WEB).href, headers: { cookie, "x-csrf": "1" } },
        dataRouteBaseline,
        0.85,
      ],
      [
        "1b. the same through the middleware",
        { label: "GET /api/notes (session cookie, no freshness hint)", url: new URL("/api/notes", WEB).href, headers: { cookie: cookieWithoutHint, "x-csrf": "1" } },
        dataRouteBaseline,
        undefined,
      ],
      [
        "2. middleware on a page",
        { label: "GET /dashboard", url: new URL("/dashboard", WEB).href, headers: { cookie } },
        pageBaseline,
        0.9,
      ],
      [
        "2b. any middleware on a page",
        { label: "GET /bench/passthrough (a middleware that returns at once)", url: new URL("/bench/passthrough", WEB).href, headers: { cookie } },
        pageBaseline,
        undefined,
      ],
      [
        "3. API token verification",
        { label: "API GET /me (token)", url: new URL("/me", API).href, headers: bearer },
        { label: "API GET /healthz", url: new URL("/healthz", API).href, headers: {} },
        0.8,
      ],
    ];
    ratios = [];
    for (const [name, a, b, target] of comparisons) ratios.push(await measureRatio(name, a, b, target, settings.load));

    const session = sessionFromPayload(await createSessionCodec([AUTH_SECRET], COOKIE_NAMES.session).open(joinChunks(COOKIE_NAMES.session, browser.jar(WEB.origin).list()) ?? ""));
    if (!session) throw new Error("the signed-in session cookie could not be opened with the benchmark's AUTH_SECRET");
    payload = sessionPayload(session);
  } finally {
    memory.throughput = await stopStack(stack);
  }

  progress(`session codec: ${settings.codecIterations} calls per sample`);
  const codec = await codecCosts(AUTH_SECRET, COOKIE_NAMES.session, payload, settings.codecIterations);
  progress(`  open ${codec.tesseraOpen.toFixed(1)} µs vs Auth.js decode ${codec.authjsDecode.toFixed(1)} µs`);

  // Phase 4: short-lived tokens, many sessions.
  progress(`restarting with access tokens of ${settings.refresh.accessTokenTtl} s`);
  stack = await startStack(settings.refresh.accessTokenTtl, "refresh");
  let refresh: Report["refresh"];
  try {
    refresh = await refreshPhase(WEB, IDP, settings.refresh);
  } finally {
    memory.refresh = await stopStack(stack);
  }

  // Phase 5: the cluster, started twice for the same reason as the single stack: no refresh may fall inside the
  // throughput rounds, and the refresh phase needs tokens that expire.
  progress("starting the cluster: redis-server, idp, api, two web instances, nginx over both and nginx over the first (access tokens live 1 h)");
  ratios.push(
    await onCluster(LONG_TTL, "throughput", async (cluster) => {
      if (!cluster.soloUrl) throw new Error("the cluster started without its one-instance nginx");
      const browser = new Browser();
      await signIn(browser, new URL(cluster.url), USERS[0]!);
      const headers = { cookie: browser.jar(new URL(cluster.url).origin).header("/"), "x-csrf": "1" };
      return measureRatio(
        "5. two web instances",
        { label: "GET /api/notes through nginx over two instances (session cookie, token current)", url: new URL("/api/notes", cluster.url).href, headers },
        { label: "the same through nginx over one of them", url: new URL("/api/notes", cluster.soloUrl).href, headers },
        undefined,
        settings.load,
      );
    }),
  );
  progress(`restarting the cluster with access tokens of ${settings.refresh.accessTokenTtl} s`);
  const clusterRefresh = await onCluster(settings.refresh.accessTokenTtl, "refresh", (cluster) =>
    refreshPhase(new URL(cluster.url), new URL(cluster.idpUrl), settings.refresh),
  );

  const cpus = os.cpus();
  const report: Report = {
    mode,
    date: new Date().toISOString(),
    commit: describeCommit(),
    machine: { node: process.version, cpu: cpus[0]?.model.trim() ?? "unknown", cpus: cpus.length, platform: `${os.type()} ${os.release()}` },
    load: settings.load,
    ratios,
    refresh,
    clusterRefresh,
    sizes,
    cookieWrites: writes,
    memory,
    codec,
    seconds: (Date.now() - started) / 1000,
  };
  const markdown = toMarkdown(report);
  writeFileSync(path.join(OUT, "results.json"), JSON.stringify(report, null, 2) + "\n");
  writeFileSync(path.join(OUT, "results.md"), markdown);
  console.log(`\n${markdown}`);
  progress(`written to .bench/results.md and .bench/results.json`);

  const failures = [
    ...(refresh.ok ? [] : ["silent refresh under load"]),
    ...(clusterRefresh.ok ? [] : ["silent refresh under load across two instances behind nginx"]),
    ...(writes.writes === 0 ? [] : ["the session cookie was rewritten on steady-state responses"]),
  ];
  for (const failure of failures) console.error(`FAILED: ${failure}`);
  return failures.length === 0 ? 0 : 1;
}

// The services run in their own process groups: on Ctrl-C, exit through the handler that stops them.
for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => process.exit(130));

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`benchmark failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
