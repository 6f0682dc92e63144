import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { redisServerAvailable, startRedisServer, type RedisServer } from "../../scripts/redis-server";
import { createTestIssuer, nowSeconds, type TestIssuer } from "./testing/test-issuer";

/** The real process over real HTTP: start-up, discovery against a live (fake) IdP, persistence across restarts. */

const SERVER = path.resolve("services/api/server.ts");
const AUDIENCE = "http://localhost:4001";

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

function startIdp(signer: TestIssuer, port: number): Promise<Server> {
  const issuer = `http://127.0.0.1:${port}`;
  const server = createServer((req, res) => {
    const body =
      req.url === "/.well-known/openid-configuration"
        ? { issuer, jwks_uri: `${issuer}/jwks` }
        : req.url === "/jwks"
          ? signer.jwks()
          : undefined;
    res.writeHead(body === undefined ? 404 : 200, { "content-type": "application/json" });
    res.end(JSON.stringify(body ?? {}));
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

interface RunningApi {
  child: ChildProcess;
  output: () => string;
  stop: () => Promise<number | null>;
}

function runApi(env: Record<string, string>): Promise<RunningApi> {
  // tsx as a loader rather than its CLI: the CLI relays SIGTERM to a child process and SIGKILLs it when the child
  // takes over 30 ms to acknowledge, which a busy machine does, so the graceful shutdown under test never ran.
  const child = spawn(process.execPath, ["--import", "tsx", SERVER], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const stop = () => {
    child.kill("SIGTERM");
    return exited;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`API did not start:\n${output}`)), 15_000);
    const collect = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('"event":"api_started"')) {
        clearTimeout(timer);
        resolve({ child, output: () => output, stop });
      }
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`API exited with ${code}:\n${output}`));
    });
  });
}

/** Sends headers exactly as given, duplicates included, which fetch cannot do. */
function rawGet(url: string, rawHeaders: string[]): Promise<{ status: number; challenge: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: ["Host", new URL(url).host, ...rawHeaders] }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, challenge: res.headers["www-authenticate"] });
    });
    req.on("error", reject);
    req.end();
  });
}

describe("API server process", () => {
  let signer: TestIssuer;
  let idpPort: number;
  let apiPort: number;
  let dataDir: string;
  let idp: Server | undefined;
  let api: RunningApi | undefined;
  let env: Record<string, string>;
  let base: string;

  const mint = (claims: Record<string, unknown> = {}) =>
    signer.mint({ claims: { iss: `http://127.0.0.1:${idpPort}`, aud: AUDIENCE, ...claims } });
  const call = (method: string, route: string, token: string, body?: unknown) =>
    fetch(`${base}${route}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });

  beforeAll(async () => {
    signer = await createTestIssuer();
    [idpPort, apiPort] = await Promise.all([freePort(), freePort()]);
    dataDir = mkdtempSync(path.join(tmpdir(), "tessera-api-"));
    base = `http://127.0.0.1:${apiPort}`;
    env = { API_PORT: String(apiPort), OIDC_ISSUER: `http://127.0.0.1:${idpPort}`, API_AUDIENCE: AUDIENCE, DATA_DIR: dataDir };
  });

  afterAll(async () => {
    await api?.stop();
    await new Promise((resolve) => (idp ? idp.close(resolve) : resolve(undefined)));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("starts while the IdP is down, answers 503, and recovers once the IdP is up", async () => {
    api = await runApi(env);
    expect(api.output()).toContain(`"url":"http://127.0.0.1:${apiPort}"`);
    expect(api.output()).toContain(`"issuer":"http://127.0.0.1:${idpPort}"`);
    expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: "ok" });

    const token = await mint();
    expect((await call("GET", "/me", token)).status).toBe(503);

    idp = await startIdp(signer, idpPort);
    const deadline = Date.now() + 10_000;
    let status = 0;
    while (Date.now() < deadline && status !== 200) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      status = (await call("GET", "/me", token)).status;
    }
    expect(status).toBe(200);
  }, 30_000);

  it("refuses two Authorization headers sent on the wire", async () => {
    const token = await mint();
    const single = await rawGet(`${base}/me`, ["Authorization", `Bearer ${token}`]);
    expect(single.status).toBe(200);
    const doubled = await rawGet(`${base}/me`, ["Authorization", `Bearer ${token}`, "Authorization", `Bearer ${token}`]);
    expect(doubled.status).toBe(401);
    expect(doubled.challenge).toMatch(/^Bearer realm="tessera-api", error="invalid_token"/);
  });

  it("keeps notes and revocations in DATA_DIR across a restart", async () => {
    const token = await mint({ sid: "session-restart" });
    const created = await call("POST", "/notes", token, { text: "survives restarts" });
    expect(created.status).toBe(201);
    const revoker = await mint({ sid: "session-ended" });
    const sibling = await mint({ sid: "session-ended", iat: nowSeconds() - 10 });
    expect((await call("POST", "/revocations", revoker)).status).toBe(204);

    expect(await api?.stop()).toBe(0);
    api = await runApi(env);

    const listed = await call("GET", "/notes", token);
    expect(((await listed.json()) as { notes: { text: string }[] }).notes.map((n) => n.text)).toEqual(["survives restarts"]);
    expect((await call("GET", "/me", sibling)).status).toBe(401);
    // Within the clock tolerance, so certainly after the revocation's cut-off however fast the restart was.
    expect((await call("GET", "/me", await mint({ sid: "session-ended", iat: nowSeconds() + 2 }))).status).toBe(200);
    expect(api.output()).not.toContain(token.split(".")[2]);
  }, 30_000);

  it("refuses to start a second instance on the same DATA_DIR, and says why", async () => {
    const port = await freePort();
    await expect(runApi({ ...env, API_PORT: String(port) })).rejects.toThrow(/exited with 1[\s\S]*database_in_use[\s\S]*REDIS_URL/);
    expect((await call("GET", "/me", await mint())).status).toBe(200);
  }, 30_000);

  it("honours a logout token relayed by the web app, from a trusted client only", async () => {
    const token = await mint({ sid: "session-logout" });
    expect((await call("GET", "/me", token)).status).toBe(200);
    const relay = async (claims: Record<string, unknown>) =>
      fetch(`${base}/revocations/logout-token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
          logout_token: await signer.mintLogoutToken({ claims: { iss: `http://127.0.0.1:${idpPort}`, ...claims } }),
        }),
      });

    const untrusted = await relay({ sid: "session-logout", aud: "another-client" });
    expect(untrusted.status).toBe(400);
    expect((await call("GET", "/me", token)).status).toBe(200);

    const trusted = await relay({ sid: "session-logout", aud: "tessera-bff" });
    expect(trusted.status).toBe(200);
    expect(trusted.headers.get("cache-control")).toBe("no-store");
    expect((await call("GET", "/me", token)).status).toBe(401);
  });

  it("refuses to start on an invalid variable and names it", async () => {
    await expect(runApi({ ...env, API_PORT: "not-a-port" })).rejects.toThrow(/exited with 1[\s\S]*API_PORT/);
  });
});

describe("API server process with telemetry on", () => {
  let signer: TestIssuer;
  let idp: Server;
  let collector: Server;
  let dataDir: string;
  const received: { path: string | undefined; headers: Record<string, unknown>; body: string }[] = [];

  beforeAll(async () => {
    signer = await createTestIssuer();
    const [idpPort, collectorPort] = await Promise.all([freePort(), freePort()]);
    idp = await startIdp(signer, idpPort);
    collector = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        received.push({ path: req.url, headers: req.headers, body });
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{}");
      });
    });
    await new Promise<void>((resolve) => collector.listen(collectorPort, "127.0.0.1", resolve));
    dataDir = mkdtempSync(path.join(tmpdir(), "tessera-api-"));
  });

  afterAll(async () => {
    await new Promise((resolve) => idp.close(resolve));
    await new Promise((resolve) => collector.close(resolve));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("sends its spans and metrics to the collector, flushing them at SIGTERM before it exits", async () => {
    const issuer = `http://127.0.0.1:${(idp.address() as AddressInfo).port}`;
    const port = await freePort();
    const api = await runApi({
      API_PORT: String(port),
      OIDC_ISSUER: issuer,
      API_AUDIENCE: AUDIENCE,
      DATA_DIR: dataDir,
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(collector.address() as AddressInfo).port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_HEADERS: "x-api-key=collector%20secret",
      OTEL_SERVICE_NAME: "tessera-api-under-test",
    });
    const token = await signer.mint({ claims: { iss: issuer, aud: AUDIENCE } });
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    const me = await fetch(`http://127.0.0.1:${port}/me`, {
      headers: { Authorization: `Bearer ${token}`, traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(me.status).toBe(200);
    // Nothing is due yet (a 5 s batch, a 60 s interval): only the shutdown sends it.
    expect(await api.stop()).toBe(0);

    const output = api.output();
    expect(output).toContain('"event":"telemetry_started"');
    expect(output).not.toContain("collector secret");
    const traces = received.filter((request) => request.path === "/v1/traces");
    const metrics = received.filter((request) => request.path === "/v1/metrics");
    expect(traces).toHaveLength(1);
    expect(metrics).toHaveLength(1);
    for (const request of [...traces, ...metrics]) {
      expect(request.headers).toMatchObject({ "x-api-key": "collector secret", "content-type": "application/json" });
      expect(request.body).toContain("tessera-api-under-test");
      expect(request.body).not.toContain(token.split(".")[2]);
    }
    expect(traces[0]?.body).toContain(traceId);
    expect(traces[0]?.body).toContain("GET /me");
    expect(metrics[0]?.body).toContain("tessera.api.token.verifications");
  }, 30_000);
});

describe.skipIf(!redisServerAvailable())("API server processes sharing REDIS_URL", () => {
  let signer: TestIssuer;
  let idp: Server;
  let redis: RedisServer;
  let issuer: string;
  const dataDirs: string[] = [];
  const apis: RunningApi[] = [];

  beforeAll(async () => {
    signer = await createTestIssuer();
    const idpPort = await freePort();
    issuer = `http://127.0.0.1:${idpPort}`;
    [idp, redis] = await Promise.all([startIdp(signer, idpPort), startRedisServer()]);
  });

  afterAll(async () => {
    await Promise.all(apis.map((api) => api.stop()));
    await new Promise((resolve) => idp.close(resolve));
    await redis.stop();
    for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
  });

  async function startInstance(): Promise<string> {
    const port = await freePort();
    const dataDir = mkdtempSync(path.join(tmpdir(), "tessera-api-"));
    dataDirs.push(dataDir);
    const api = await runApi({ API_PORT: String(port), OIDC_ISSUER: issuer, API_AUDIENCE: AUDIENCE, DATA_DIR: dataDir, REDIS_URL: redis.url });
    apis.push(api);
    expect(api.output()).toContain('"revocationStore":"redis"');
    return `http://127.0.0.1:${port}`;
  }

  it("refuses on one instance a session revoked through the other", async () => {
    const [first, second] = await Promise.all([startInstance(), startInstance()]);
    const token = await signer.mint({ claims: { iss: issuer, aud: AUDIENCE, sid: "session-shared" } });
    const me = (base: string) => fetch(`${base}/me`, { headers: { Authorization: `Bearer ${token}` } });
    expect((await me(second)).status).toBe(200);

    const revoked = await fetch(`${first}/revocations`, { method: "POST", headers: { Authorization: `Bearer ${token}` } });
    expect(revoked.status).toBe(204);
    expect((await me(second)).status).toBe(401);
  }, 30_000);
});
