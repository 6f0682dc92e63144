import { SignJWT, decodeProtectedHeader, errors, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTVerifyGetKey } from "jose";
import { beforeEach, describe, expect, it } from "vitest";
import { createIdTokenVerifier } from "./id-token";
import { createKeySet, KeySetError, MAX_AGE_MS, MIN_FETCH_INTERVAL_MS } from "./key-set";
import { BACKCHANNEL_LOGOUT_EVENT, createLogoutTokenVerifier, LogoutTokenError } from "./logout-token";
import { useTelemetry } from "@/lib/testing/telemetry";

const ISSUER = "https://idp.example";
const CLIENT_ID = "tessera-bff";
const JWKS_URI = "https://idp.example/jwks";

/**
 * A clock that moves only when the test moves it, with its `sleep`: a sleep ends when `advance` passes its end, and
 * what it wakes runs before time moves on.
 */
function fakeClock(start: number) {
  let time = start;
  let sleepers: { until: number; wake: () => void }[] = [];
  const settle = async () => {
    for (let round = 0; round < 5; round += 1) await new Promise((resolve) => setImmediate(resolve));
  };
  return {
    now: () => time,
    sleep: (ms: number) => new Promise<void>((wake) => sleepers.push({ until: time + Math.max(ms, 0), wake })),
    async advance(ms: number): Promise<void> {
      const end = time + ms;
      await settle();
      for (;;) {
        const due = sleepers.filter(({ until }) => until <= end).sort((a, b) => a.until - b.until)[0];
        if (due === undefined) break;
        sleepers = sleepers.filter((sleeper) => sleeper !== due);
        time = Math.max(time, due.until);
        due.wake();
        await settle();
      }
      time = end;
      await settle();
    },
  };
}

/** An IdP that publishes its keys, signs with the newest, and can withdraw the older ones. */
async function rotatingIdp() {
  const published: { kid: string; privateKey: CryptoKey; jwk: JWK }[] = [];
  const rotate = async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const kid = `key-${published.length + 1}`;
    published.push({ kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" } });
  };
  await rotate();
  const newest = () => published[published.length - 1] as (typeof published)[number];
  const sign = (payload: Record<string, unknown>, typ: string) => {
    const now = Math.floor(Date.now() / 1000);
    const { kid, privateKey } = newest();
    return new SignJWT({ iss: ISSUER, aud: CLIENT_ID, sub: "alice", iat: now, exp: now + 120, ...payload })
      .setProtectedHeader({ alg: "ES256", kid, typ })
      .sign(privateKey);
  };
  return {
    rotate,
    withdrawOlder: () => void published.splice(0, published.length - 1),
    jwks: () => ({ keys: published.map(({ jwk }) => jwk) }),
    idToken: () => sign({ sid: "sid-1" }, "JWT"),
    logoutToken: () => sign({ sid: "sid-1", jti: crypto.randomUUID(), events: { [BACKCHANNEL_LOGOUT_EVENT]: {} } }, "logout+jwt"),
  };
}

let idp: Awaited<ReturnType<typeof rotatingIdp>>;
let clock: ReturnType<typeof fakeClock>;
/** The fake time of every JWKS fetch. */
let fetchedAt: number[];
let answer: () => Response;
/** While set, a fetch answers only once it resolves, with the key set as it was when asked. */
let slowAnswers: Promise<void> | undefined;

beforeEach(async () => {
  idp = await rotatingIdp();
  clock = fakeClock(Date.now());
  fetchedAt = [];
  answer = () => Response.json(idp.jwks());
  slowAnswers = undefined;
});

const fakeFetch = (async (url: string) => {
  expect(url).toBe(JWKS_URI);
  fetchedAt.push(clock.now());
  const response = answer();
  if (slowAnswers !== undefined) await slowAnswers;
  return response;
}) as typeof fetch;

const keySet = () => createKeySet({ jwksUri: async () => JWKS_URI, timeoutMs: 1_000, fetch: fakeFetch, now: clock.now, sleep: clock.sleep });

/** Settles `promise` in the background, noting the fake time at which it did. */
function track<T>(promise: Promise<T>) {
  const outcome: { settledAt?: number; value?: T; error?: unknown } = {};
  promise.then(
    (value) => Object.assign(outcome, { value, settledAt: clock.now() }),
    (error: unknown) => Object.assign(outcome, { error, settledAt: clock.now() }),
  );
  return outcome;
}

/** The key for `token`'s header, tracked: what the budget decides, without the signature check's own pace. */
const keyFor = (getKey: JWTVerifyGetKey, token: string) => track(Promise.resolve(getKey(decodeProtectedHeader(token) as { alg: string; kid?: string }, { payload: "", signature: "" })));

const randomKid = (getKey: JWTVerifyGetKey) => track(Promise.resolve(getKey({ alg: "ES256", kid: crypto.randomUUID() }, { payload: "", signature: "" })));

const logoutVerifier = (getKey: JWTVerifyGetKey) => createLogoutTokenVerifier({ issuer: ISSUER, clientId: CLIENT_ID, getKey, now: () => Date.now() });
const idTokenVerifier = (getKey: JWTVerifyGetKey) => createIdTokenVerifier({ issuer: ISSUER, clientId: CLIENT_ID, getKey });

/** The most fetches that fall within any one minute. */
function mostInAMinute(times: number[]): number {
  return Math.max(0, ...times.map((start) => times.filter((t) => t >= start && t < start + 60_000).length));
}

describe("createKeySet", () => {
  it("reads the set at the first token, and not again while the kids it meets are known and the set is young", async () => {
    const getKey = keySet();
    const verify = idTokenVerifier(getKey);
    expect(fetchedAt).toEqual([]);
    await verify(await idp.idToken());
    await clock.advance(MAX_AGE_MS - 1);
    await verify(await idp.idToken());
    expect(fetchedAt).toHaveLength(1);
  });

  it("reads a set 10 minutes old again before using it, so a key the IdP withdrew stops being trusted", async () => {
    const getKey = keySet();
    const signedWithOldKey = await idp.idToken();
    await idTokenVerifier(getKey)(signedWithOldKey);
    await idp.rotate();
    idp.withdrawOlder();
    await clock.advance(MAX_AGE_MS);

    const outcome = keyFor(getKey, signedWithOldKey);
    await clock.advance(0);
    expect(outcome.error).toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(fetchedAt).toHaveLength(2);
  });

  it("holds a token whose kid is unknown until the next fetch the budget allows, and accepts it if the IdP now publishes its key", async () => {
    const getKey = keySet();
    await idTokenVerifier(getKey)(await idp.idToken());
    const start = clock.now();
    await clock.advance(1_000);
    await idp.rotate();

    const token = await idp.logoutToken();
    const outcome = keyFor(getKey, token);
    await clock.advance(MIN_FETCH_INTERVAL_MS - 1_000 - 1);
    expect(outcome.settledAt).toBeUndefined();
    await clock.advance(1);

    expect(outcome.error).toBeUndefined();
    expect(outcome.settledAt).toBe(start + MIN_FETCH_INTERVAL_MS);
    expect((await logoutVerifier(getKey)(token)).sid).toBe("sid-1");
    expect(fetchedAt).toEqual([start, start + MIN_FETCH_INTERVAL_MS]);
  });

  it("refuses a kid still unknown after one fetch that started after the token arrived", async () => {
    const getKey = keySet();
    await idTokenVerifier(getKey)(await idp.idToken());
    await clock.advance(1);
    const outcome = randomKid(getKey);
    await clock.advance(MIN_FETCH_INTERVAL_MS);
    expect(outcome.error).toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(fetchedAt).toHaveLength(2);
  });

  it("does not count a fetch already under way when the token arrived: its answer may predate the new key", async () => {
    const getKey = keySet();
    await idTokenVerifier(getKey)(await idp.idToken());
    await clock.advance(MIN_FETCH_INTERVAL_MS);
    const start = clock.now();

    let release = () => {};
    slowAnswers = new Promise<void>((resolve) => (release = resolve));
    const asked = randomKid(getKey);
    await clock.advance(1);
    await idp.rotate();
    const token = await idp.idToken();
    const outcome = keyFor(getKey, token);
    release();
    slowAnswers = undefined;
    await clock.advance(MIN_FETCH_INTERVAL_MS);

    expect(asked.error).toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(outcome.error).toBeUndefined();
    expect(outcome.settledAt).toBe(start + MIN_FETCH_INTERVAL_MS);
    expect((await idTokenVerifier(getKey)(token)).sub).toBe("alice");
    expect(fetchedAt.slice(1)).toEqual([start, start + MIN_FETCH_INTERVAL_MS]);
  });

  it("fetches at most 12 times a minute while unknown kids arrive every 100 ms", async () => {
    const getKey = keySet();
    await idTokenVerifier(getKey)(await idp.idToken());
    const outcomes = [];
    for (let step = 0; step < 600; step += 1) {
      outcomes.push(randomKid(getKey));
      await clock.advance(100);
    }
    await clock.advance(MIN_FETCH_INTERVAL_MS);

    expect(mostInAMinute(fetchedAt)).toBeLessThanOrEqual(12);
    expect(outcomes.every(({ error }) => error instanceof errors.JWKSNoMatchingKey)).toBe(true);
  });

  it("accepts an ID token and a logout token signed with a newly published key within 5 s while unknown kids keep arriving", async () => {
    const getKey = keySet();
    await idTokenVerifier(getKey)(await idp.idToken());
    let tokens: string[] = [];
    let outcomes: ReturnType<typeof keyFor>[] = [];
    let rotatedAt = 0;
    for (let step = 0; step < 600; step += 1) {
      randomKid(getKey);
      // Just after a fetch: the worst moment, a whole interval before the next one.
      if (step === 201) {
        await idp.rotate();
        rotatedAt = clock.now();
        tokens = [await idp.idToken(), await idp.logoutToken()];
        outcomes = tokens.map((token) => keyFor(getKey, token));
      }
      await clock.advance(100);
    }

    expect(fetchedAt).toContain(rotatedAt - 100);
    for (const outcome of outcomes) {
      expect(outcome.error).toBeUndefined();
      expect(outcome.settledAt).toBeLessThanOrEqual(rotatedAt + 5_000);
    }
    const [idToken = "", logoutToken = ""] = tokens;
    expect((await idTokenVerifier(getKey)(idToken)).sub).toBe("alice");
    expect((await logoutVerifier(getKey)(logoutToken)).sid).toBe("sid-1");
    expect(mostInAMinute(fetchedAt)).toBeLessThanOrEqual(12);
  });

  it("counts a failed fetch against the budget, and a logout token it could not check is keys_unavailable, not invalid", async () => {
    answer = () => new Response("unavailable", { status: 503 });
    const getKey = keySet();
    const outcomes = [];
    for (let step = 0; step < 100; step += 1) {
      outcomes.push(track(logoutVerifier(getKey)(await idp.logoutToken())));
      await clock.advance(100);
    }
    await clock.advance(MIN_FETCH_INTERVAL_MS);

    expect(fetchedAt.length).toBeGreaterThan(1);
    expect(fetchedAt.slice(1).every((at, i) => at - (fetchedAt[i] as number) >= MIN_FETCH_INTERVAL_MS)).toBe(true);
    for (const { error } of outcomes) {
      expect(error).toBeInstanceOf(LogoutTokenError);
      expect((error as LogoutTokenError).code).toBe("keys_unavailable");
      expect((error as LogoutTokenError).cause).toBeInstanceOf(KeySetError);
    }
  });
});

describe("createKeySet telemetry", () => {
  const telemetry = useTelemetry({ traces: false });

  it("times each fetch of the key set as the jwks endpoint's", async () => {
    await idTokenVerifier(keySet())(await idp.idToken());
    expect(fetchedAt).toHaveLength(1);
    expect(await telemetry.collectMetric("tessera.idp.request.duration")).toEqual([
      { attributes: { "tessera.idp.endpoint": "jwks", "http.response.status_code": 200 }, value: 1, sum: expect.any(Number) },
    ]);
  });
});
