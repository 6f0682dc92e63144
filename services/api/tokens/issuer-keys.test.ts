import type { FetchImplementation, JSONWebKeySet } from "jose";
import { beforeEach, describe, expect, it } from "vitest";
import { verifyAccessToken } from "./access-token";
import { createIssuerKeys, type IssuerKeysOptions } from "./issuer-keys";
import { MIN_FETCH_INTERVAL_MS } from "./key-set";
import type { Logger } from "../logger";
import type { KeyResolver, TokenErrorCode } from "./signed-token";
import { createFakeClock } from "../testing/fake-clock";
import { createTestIssuer, TEST_AUDIENCE, TEST_CLIENT, TEST_ISSUER, type TestIssuer } from "../testing/test-issuer";

const DISCOVERY_URL = `${TEST_ISSUER}/.well-known/openid-configuration`;
const JWKS_URL = `${TEST_ISSUER}/jwks`;

/** An IdP reachable only through the injected fetch, whose outages and answers the test controls. */
function fakeIdp(signer: TestIssuer) {
  const state = {
    up: true,
    jwksUp: true,
    hang: false,
    discovery: { issuer: TEST_ISSUER, jwks_uri: JWKS_URL } as Record<string, unknown>,
    jwks: (): JSONWebKeySet => signer.jwks(),
    calls: [] as string[],
  };
  const fetch: FetchImplementation = async (url, init) => {
    state.calls.push(url);
    if (state.hang) {
      return new Promise<Response>((_, reject) => init.signal.addEventListener("abort", () => reject(init.signal.reason)));
    }
    if (!state.up) throw new TypeError("fetch failed");
    if (url === DISCOVERY_URL) return Response.json(state.discovery);
    if (url === JWKS_URL) return state.jwksUp ? Response.json(state.jwks()) : new Response("unavailable", { status: 503 });
    return new Response("not found", { status: 404 });
  };
  const count = (url: string) => state.calls.filter((called) => called === url).length;
  return Object.assign(state, { fetch, count });
}

function recordingLogger() {
  const events: { level: string; event: string; fields?: Record<string, unknown> }[] = [];
  const log: Logger = {
    info: (event, fields) => events.push({ level: "info", event, fields }),
    warn: (event, fields) => events.push({ level: "warn", event, fields }),
    error: (event, fields) => events.push({ level: "error", event, fields }),
  };
  return { log, events };
}

let signer: TestIssuer;
let idp: ReturnType<typeof fakeIdp>;
let clock: number;
let logged: ReturnType<typeof recordingLogger>;

beforeEach(async () => {
  signer = await createTestIssuer();
  idp = fakeIdp(signer);
  clock = 1_000_000;
  logged = recordingLogger();
});

const keys = (overrides: Partial<IssuerKeysOptions> = {}) =>
  createIssuerKeys({ issuer: TEST_ISSUER, log: logged.log, fetch: idp.fetch, now: () => clock, ...overrides });

async function outcome(getKey: KeyResolver, token: string): Promise<"accepted" | TokenErrorCode> {
  try {
    await verifyAccessToken(token, {
      getKey,
      issuer: TEST_ISSUER,
      audience: TEST_AUDIENCE,
      clockTolerance: 5,
      acceptedTypes: ["at+jwt"],
      clientIds: [TEST_CLIENT],
    });
    return "accepted";
  } catch (error) {
    return (error as { code: TokenErrorCode }).code;
  }
}

describe("createIssuerKeys", () => {
  it("finds the keys through discovery and verifies tokens with them", async () => {
    const getKey = keys();
    expect(await outcome(getKey, await signer.mint())).toBe("accepted");
    expect(await outcome(getKey, await signer.mint())).toBe("accepted");
    expect(idp.count(DISCOVERY_URL)).toBe(1);
    expect(idp.count(JWKS_URL)).toBe(1);
  });

  it("contacts nobody until the first token arrives", () => {
    keys();
    expect(idp.calls).toEqual([]);
  });

  it("shares one discovery among concurrent first requests", async () => {
    const getKey = keys();
    const tokens = await Promise.all([signer.mint(), signer.mint(), signer.mint()]);
    expect(await Promise.all(tokens.map((token) => outcome(getKey, token)))).toEqual(["accepted", "accepted", "accepted"]);
    expect(idp.count(DISCOVERY_URL)).toBe(1);
  });

  it("appends the discovery path to an issuer with a trailing slash", async () => {
    const issuer = `${TEST_ISSUER}/`;
    idp.discovery.issuer = issuer;
    await keys({ issuer })({ alg: "ES256", kid: signer.jwks().keys[0]?.kid as string });
    expect(idp.calls[0]).toBe(DISCOVERY_URL);
  });

  it("recovers when the IdP comes up after the API, failing fast in between", async () => {
    idp.up = false;
    const getKey = keys({ retryAfterMs: 2_000 });
    const token = await signer.mint();

    expect(await outcome(getKey, token)).toBe("keys_unavailable");
    expect(await outcome(getKey, token)).toBe("keys_unavailable");
    expect(idp.count(DISCOVERY_URL)).toBe(1);
    expect(logged.events).toContainEqual(expect.objectContaining({ level: "warn", event: "issuer_discovery_failed" }));

    idp.up = true;
    clock += 2_000;
    expect(await outcome(getKey, token)).toBe("accepted");
    expect(idp.count(DISCOVERY_URL)).toBe(2);
  });

  it.each([
    ["names another issuer", { issuer: "https://evil.test", jwks_uri: JWKS_URL }],
    ["names the issuer with a trailing slash", { issuer: `${TEST_ISSUER}/`, jwks_uri: JWKS_URL }],
    ["has no jwks_uri", { issuer: TEST_ISSUER }],
    ["offers the keys over http for an https issuer", { issuer: TEST_ISSUER, jwks_uri: "http://issuer.test/jwks" }],
  ])("refuses a discovery document that %s", async (_, discovery) => {
    idp.discovery = discovery;
    expect(await outcome(keys(), await signer.mint())).toBe("keys_unavailable");
    expect(idp.count(JWKS_URL)).toBe(0);
  });

  it("gives up on an IdP that does not answer within the timeout", async () => {
    idp.hang = true;
    const started = Date.now();
    expect(await outcome(keys({ timeoutMs: 50 }), await signer.mint())).toBe("keys_unavailable");
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("re-reads the key set for an unknown kid, so a rotation is picked up", async () => {
    const getKey = keys();
    expect(await outcome(getKey, await signer.mint())).toBe("accepted");
    clock += MIN_FETCH_INTERVAL_MS;
    await signer.rotate();
    expect(await outcome(getKey, await signer.mint())).toBe("accepted");
    expect(idp.count(JWKS_URL)).toBe(2);
  });

  it("holds a token of a new key until the next fetch the budget allows, however many unknown kids came first", async () => {
    const fake = createFakeClock(clock);
    const getKey = keys({ now: fake.now, sleep: fake.sleep });
    expect(await outcome(getKey, await signer.mint())).toBe("accepted");

    const madeUp: Promise<string>[] = [];
    for (let step = 0; step < 20; step += 1) {
      madeUp.push(outcome(getKey, await signer.mint({ header: { kid: `made-up-${step}` } })));
      await fake.advance(100);
    }
    await signer.rotate();
    const signedWithNewKey = outcome(getKey, await signer.mint());
    await fake.advance(MIN_FETCH_INTERVAL_MS - 2_000);

    expect(await signedWithNewKey).toBe("accepted");
    expect(new Set(await Promise.all(madeUp))).toEqual(new Set(["unknown_key"]));
    expect(idp.count(JWKS_URL)).toBe(2);
  });

  it("keeps verifying with cached keys while the JWKS endpoint is down", async () => {
    const getKey = keys({ refreshIntervalMs: 1_000 });
    const token = await signer.mint();
    expect(await outcome(getKey, token)).toBe("accepted");

    idp.jwksUp = false;
    clock += 60 * 60_000;
    expect(await outcome(getKey, token)).toBe("accepted");
    await new Promise((resolve) => setImmediate(resolve));
    expect(idp.count(JWKS_URL)).toBe(2);
    expect(logged.events).toContainEqual(expect.objectContaining({ level: "warn", event: "jwks_refresh_failed" }));
    expect(await outcome(getKey, token)).toBe("accepted");
  });

  it("stops trusting a key the IdP withdraws once the background refresh has run", async () => {
    const getKey = keys({ refreshIntervalMs: 1_000 });
    const oldToken = await signer.mint();
    expect(await outcome(getKey, oldToken)).toBe("accepted");

    await signer.rotate();
    const current = signer.jwks().keys.slice(-1);
    idp.jwks = () => ({ keys: current });
    clock += MIN_FETCH_INTERVAL_MS;
    await getKey({ alg: "ES256", kid: current[0]?.kid as string }).catch(() => undefined);
    await new Promise((resolve) => setImmediate(resolve));

    expect(await outcome(getKey, oldToken)).toBe("unknown_key");
    expect(await outcome(getKey, await signer.mint())).toBe("accepted");
  });
});

describe("readiness", () => {
  it("is ready once discovery has found the issuer's keys, and not while the issuer cannot be reached", async () => {
    idp.up = false;
    const getKey = keys({ retryAfterMs: 0 });
    await expect(getKey.ready()).rejects.toThrow(/fetch failed/);
    idp.up = true;
    await expect(getKey.ready()).resolves.toBeUndefined();
    expect(idp.count(DISCOVERY_URL)).toBe(2);
  });
});
