import { randomUUID } from "node:crypto";
import { decodeProtectedHeader, errors, type FetchImplementation, type JSONWebKeySet } from "jose";
import { beforeEach, describe, expect, it } from "vitest";
import { verifyAccessToken } from "./access-token";
import { createKeySet, KeySetError, MIN_FETCH_INTERVAL_MS } from "./key-set";
import type { KeyResolver } from "./signed-token";
import { createFakeClock, type FakeClock } from "../testing/fake-clock";
import { startTestTelemetry } from "../testing/test-telemetry";
import { createTestIssuer, testVerifyOptions, type TestIssuer } from "../testing/test-issuer";

const JWKS_URL = "https://issuer.test/jwks";

let signer: TestIssuer;
let clock: FakeClock;
/** The fake time of every JWKS fetch. */
let fetchedAt: number[];
let jwks: () => JSONWebKeySet | Response;
/** While set, a fetch answers only once it resolves, with the key set as it was when asked. */
let slowAnswers: Promise<void> | undefined;

beforeEach(async () => {
  signer = await createTestIssuer();
  clock = createFakeClock();
  fetchedAt = [];
  jwks = () => signer.jwks();
  slowAnswers = undefined;
});

const fetch: FetchImplementation = async (url) => {
  expect(url).toBe(JWKS_URL);
  fetchedAt.push(clock.now());
  const answer = jwks();
  if (slowAnswers !== undefined) await slowAnswers;
  return answer instanceof Response ? answer : Response.json(answer);
};

const keySet = () => createKeySet({ jwksUri: new URL(JWKS_URL), fetch, timeoutMs: 1_000, now: clock.now, sleep: clock.sleep });

/** Settles `promise` in the background, noting the fake time at which it did. */
function track<T>(promise: Promise<T>) {
  const outcome: { settledAt?: number; value?: T; error?: unknown } = {};
  promise.then(
    (value) => Object.assign(outcome, { value, settledAt: clock.now() }),
    (error: unknown) => Object.assign(outcome, { error, settledAt: clock.now() }),
  );
  return outcome;
}

const verify = (getKey: KeyResolver, token: string) => verifyAccessToken(token, testVerifyOptions(signer, { getKey }));

const randomKid = (getKey: KeyResolver) => track(getKey({ alg: "ES256", kid: randomUUID() }));

/** The key for `token`'s header, tracked: what the budget decides, without the signature check's own pace. */
const keyFor = (getKey: KeyResolver, token: string) => track(getKey(decodeProtectedHeader(token) as { alg: string; kid: string }));

/** The most fetches that fall within any one minute. */
function mostInAMinute(times: number[]): number {
  return Math.max(0, ...times.map((start) => times.filter((t) => t >= start && t < start + 60_000).length));
}

describe("createKeySet", () => {
  it("reads the set at the first token, and not again while the kids it meets are known", async () => {
    const getKey = keySet();
    expect(fetchedAt).toEqual([]);
    await verify(getKey, await signer.mint());
    await clock.advance(60 * 60_000);
    await verify(getKey, await signer.mint());
    expect(fetchedAt).toHaveLength(1);
  });

  it("holds a token whose kid is unknown until the next fetch the budget allows, and accepts it if the IdP now publishes its key", async () => {
    const getKey = keySet();
    await verify(getKey, await signer.mint());
    const start = clock.now();
    await clock.advance(1_000);
    await signer.rotate();

    const token = await signer.mint();
    const outcome = keyFor(getKey, token);
    await clock.advance(MIN_FETCH_INTERVAL_MS - 1_000 - 1);
    expect(outcome.settledAt).toBeUndefined();
    await clock.advance(1);

    expect(outcome.error).toBeUndefined();
    expect(outcome.settledAt).toBe(start + MIN_FETCH_INTERVAL_MS);
    expect((await verify(getKey, token)).sub).toBe("alice");
    expect(fetchedAt).toEqual([start, start + MIN_FETCH_INTERVAL_MS]);
  });

  it("refuses a kid still unknown after one fetch that started after the token arrived", async () => {
    const getKey = keySet();
    await verify(getKey, await signer.mint());
    await clock.advance(1);
    const outcome = randomKid(getKey);
    await clock.advance(MIN_FETCH_INTERVAL_MS);
    expect(outcome.error).toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(fetchedAt).toHaveLength(2);

    // Just after a fetch, on a cold start too: no second wait for the same token.
    const cold = keySet();
    const first = randomKid(cold);
    await clock.advance(0);
    expect(first.error).toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(fetchedAt).toHaveLength(3);
  });

  it("does not count a fetch already under way when the token arrived: its answer may predate the new key", async () => {
    const getKey = keySet();
    await verify(getKey, await signer.mint());
    await clock.advance(MIN_FETCH_INTERVAL_MS);
    const start = clock.now();

    let answer = () => {};
    slowAnswers = new Promise<void>((resolve) => (answer = resolve));
    const asked = randomKid(getKey);
    await clock.advance(1);
    await signer.rotate();
    const token = await signer.mint();
    const outcome = keyFor(getKey, token);
    answer();
    slowAnswers = undefined;
    await clock.advance(MIN_FETCH_INTERVAL_MS);

    expect(asked.error).toBeInstanceOf(errors.JWKSNoMatchingKey);
    expect(outcome.error).toBeUndefined();
    expect(outcome.settledAt).toBe(start + MIN_FETCH_INTERVAL_MS);
    expect((await verify(getKey, token)).sub).toBe("alice");
    expect(fetchedAt.slice(1)).toEqual([start, start + MIN_FETCH_INTERVAL_MS]);
  });

  it("fetches at most 12 times a minute while unknown kids arrive every 100 ms", async () => {
    const getKey = keySet();
    await verify(getKey, await signer.mint());
    const outcomes = [];
    for (let step = 0; step < 600; step += 1) {
      outcomes.push(randomKid(getKey));
      await clock.advance(100);
    }
    await clock.advance(MIN_FETCH_INTERVAL_MS);

    expect(mostInAMinute(fetchedAt)).toBeLessThanOrEqual(12);
    expect(outcomes.every(({ error }) => error instanceof errors.JWKSNoMatchingKey)).toBe(true);
    // None waited longer than the budget's interval.
    expect(outcomes.every(({ settledAt }) => settledAt !== undefined)).toBe(true);
  });

  it("accepts a token signed with a newly published key within 5 s while unknown kids keep arriving", async () => {
    const getKey = keySet();
    await verify(getKey, await signer.mint());
    let token = "";
    let outcome: ReturnType<typeof keyFor> | undefined;
    let rotatedAt = 0;
    for (let step = 0; step < 600; step += 1) {
      randomKid(getKey);
      // Just after a fetch: the worst moment, a whole interval before the next one.
      if (step === 201) {
        await signer.rotate();
        rotatedAt = clock.now();
        token = await signer.mint();
        outcome = keyFor(getKey, token);
      }
      await clock.advance(100);
    }
    expect(fetchedAt).toContain(rotatedAt - 100);
    expect(outcome?.error).toBeUndefined();
    expect(outcome?.settledAt).toBeLessThanOrEqual(rotatedAt + 5_000);
    expect((await verify(getKey, token)).sub).toBe("alice");
    expect(mostInAMinute(fetchedAt)).toBeLessThanOrEqual(12);
  });

  it("counts a failed fetch against the budget, and reports the failure to every token that waited for it", async () => {
    jwks = () => new Response("unavailable", { status: 503 });
    const getKey = keySet();
    const outcomes = [];
    for (let step = 0; step < 100; step += 1) {
      outcomes.push(randomKid(getKey));
      await clock.advance(100);
    }
    await clock.advance(MIN_FETCH_INTERVAL_MS);
    expect(fetchedAt.length).toBeGreaterThan(1);
    expect(fetchedAt.slice(1).every((at, i) => at - (fetchedAt[i] as number) >= MIN_FETCH_INTERVAL_MS)).toBe(true);
    expect(outcomes.every(({ error }) => error instanceof KeySetError)).toBe(true);
  });
});

describe("createKeySet with telemetry on", () => {
  it("counts every JWKS fetch, by outcome", async () => {
    const telemetry = startTestTelemetry({ traces: undefined });
    try {
      const getKey = keySet();
      await verify(getKey, await signer.mint());
      jwks = () => new Response("unavailable", { status: 503 });
      // A kid that arrives after the last read waits for the next fetch.
      await clock.advance(1);
      const unknown = randomKid(getKey);
      await clock.advance(2 * MIN_FETCH_INTERVAL_MS);
      expect(unknown.error).toBeInstanceOf(KeySetError);
      jwks = () => Response.json({ keys: "not a list" });
      await clock.advance(1);
      const malformed = randomKid(getKey);
      await clock.advance(2 * MIN_FETCH_INTERVAL_MS);
      expect(malformed.error).toBeDefined();

      expect(fetchedAt).toHaveLength(3);
      expect(await telemetry.points("tessera.api.jwks.fetches")).toEqual([
        { attributes: { "tessera.outcome": "ok" }, value: 1 },
        { attributes: { "tessera.outcome": "failed" }, value: 2 },
      ]);
    } finally {
      await telemetry.stop();
    }
  });
});
