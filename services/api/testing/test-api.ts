import { verifyAccessToken, type VerifyAccessTokenOptions } from "../tokens/access-token";
import { createApi, type ApiOptions } from "../app";
import { openDatabase } from "../database";
import { createJsonLogger } from "../logger";
import { verifyLogoutToken, type VerifyLogoutTokenOptions } from "../tokens/logout-token";
import { createSqliteNotesStore } from "../notes-store";
import { createSqliteRevocationStore } from "../revocation/sqlite";
import { createVerificationCache } from "../tokens/verification-cache";
import { TEST_CLIENT, TEST_ISSUER, testVerifyOptions, type TestIssuer } from "./test-issuer";

export type TestApiOptions = Partial<ApiOptions> & {
  verify?: Partial<VerifyAccessTokenOptions>;
  verifyLogout?: Partial<VerifyLogoutTokenOptions>;
  /** Put the verification cache in front of the access-token verifier, as the server does. */
  cacheVerifications?: boolean;
};

/** The API wired as the server wires it, on an in-memory database, with its log lines captured. */
export function createTestApi(issuer: TestIssuer, overrides: TestApiOptions = {}) {
  const { verify, verifyLogout, cacheVerifications = false, ...api } = overrides;
  const lines: string[] = [];
  const db = openDatabase(":memory:");
  const verifyOptions = testVerifyOptions(issuer, verify);
  const logoutOptions: VerifyLogoutTokenOptions = {
    getKey: issuer.getKey,
    issuer: TEST_ISSUER,
    audiences: [TEST_CLIENT],
    clockTolerance: 5,
    ...verifyLogout,
  };
  const verifier = (token: string) => verifyAccessToken(token, verifyOptions);
  const notes = createSqliteNotesStore(db);
  const revocations = createSqliteRevocationStore(db);
  const app = createApi({
    verifier: cacheVerifications ? createVerificationCache(verifier) : verifier,
    logoutTokenVerifier: (token) => verifyLogoutToken(token, logoutOptions),
    notes,
    revocations,
    log: createJsonLogger((line) => lines.push(line)),
    maxTokenTtl: 3600,
    clockTolerance: 5,
    ...api,
  });

  const request = (method: string, path: string, init: { token?: string; headers?: HeadersInit; body?: string } = {}) => {
    const headers = new Headers(init.headers);
    if (init.token !== undefined) headers.set("Authorization", `Bearer ${init.token}`);
    if (init.body !== undefined && !headers.has("Content-Type")) headers.set("Content-Type", "application/json");
    return app.request(path, { method, headers, body: init.body });
  };
  /** What the web app sends on: the IdP's form body, unchanged. */
  const postLogoutToken = (logoutToken: string) =>
    request("POST", "/revocations/logout-token", {
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ logout_token: logoutToken }).toString(),
    });
  const logs = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { app, request, postLogoutToken, notes, revocations, lines, logs };
}

export type TestApi = ReturnType<typeof createTestApi>;
