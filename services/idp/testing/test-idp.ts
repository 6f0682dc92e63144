import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { createIdp, type Idp } from "../app";
import type { IdpConfig } from "../config";
import { loadOrCreateKeys } from "../keys";
import { listen, type Listener } from "../listen";
import type { Logger } from "../logger";
import { TestBrowser, readForm } from "./browser";

export const SILENT_LOGGER: Logger = { info: () => {}, warn: () => {}, error: () => {} };

export interface BackchannelDelivery {
  path: string;
  contentType: string | undefined;
  body: URLSearchParams;
}

export interface TestIdp {
  config: IdpConfig;
  idp: Idp;
  /** Origin standing in for the web app: it receives back-channel logout requests. */
  webAppOrigin: string;
  redirectUri: string;
  backchannelDeliveries: BackchannelDelivery[];
  /** Sets the status the stand-in web app answers back-channel logout with (200 until changed). */
  answerBackchannelWith(status: number): void;
  close(): Promise<void>;
}

/**
 * Runs the real IdP in-process on a random loopback port, with a fresh DATA_DIR and a stand-in web app that records
 * back-channel logout deliveries.
 */
export async function startTestIdp(overrides: Partial<Pick<IdpConfig, "testHooks" | "accessTokenTtlSeconds">> = {}): Promise<TestIdp> {
  const dataDir = await mkdtemp(path.join(tmpdir(), "tessera-idp-test-"));
  const backchannelDeliveries: BackchannelDelivery[] = [];
  let backchannelStatus = 200;

  const webApp = await listen(
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        backchannelDeliveries.push({
          path: req.url ?? "",
          contentType: req.headers["content-type"],
          body: new URLSearchParams(Buffer.concat(chunks).toString("utf8")),
        });
        res.writeHead(backchannelStatus).end();
      });
    },
    { port: 0, host: "127.0.0.1" },
  );

  // The issuer must name the port, which is only known once listening; requests wait for the IdP to be built.
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(503).end();
  let idpListener: Listener | undefined;
  try {
    idpListener = await listen((req, res) => handler(req, res), { port: 0, host: "127.0.0.1" });
    const webAppOrigin = `http://127.0.0.1:${webApp.port}`;
    const config: IdpConfig = {
      port: idpListener.port,
      host: "127.0.0.1",
      issuer: `http://127.0.0.1:${idpListener.port}`,
      authUrl: webAppOrigin,
      clientId: "tessera-bff",
      clientSecret: "test-secret-for-the-bff-client",
      clientAuthMethod: "client_secret_basic",
      clientPublicKey: undefined,
      apiAudience: "http://localhost:4001",
      accessTokenTtlSeconds: 5,
      dataDir,
      testHooks: undefined,
      ...overrides,
    };
    const keys = await loadOrCreateKeys(path.join(dataDir, "idp"));
    const idp = createIdp({ config, keys, log: SILENT_LOGGER });
    handler = idp.handler;
    const listener = idpListener;
    return {
      config,
      idp,
      webAppOrigin,
      redirectUri: `${config.authUrl}/auth/callback/oidc`,
      backchannelDeliveries,
      answerBackchannelWith(status) {
        backchannelStatus = status;
      },
      async close() {
        await Promise.all([listener.close(), webApp.close()]);
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await Promise.all([idpListener?.close(), webApp.close()]);
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

export interface AuthorizationRequest {
  url: URL;
  state: string;
  nonce: string;
  codeVerifier: string;
}

/** The authorization request the web app sends: PKCE S256, state, nonce, the API as resource, no prompt. */
export function authorizationRequest(test: TestIdp, extra: Record<string, string> = {}): AuthorizationRequest {
  const codeVerifier = randomBytes(32).toString("base64url");
  const state = randomBytes(16).toString("base64url");
  const nonce = randomBytes(16).toString("base64url");
  const url = new URL("/auth", test.config.issuer);
  const params = {
    client_id: test.config.clientId,
    response_type: "code",
    redirect_uri: test.redirectUri,
    scope: "openid profile email offline_access notes:read notes:write",
    resource: test.config.apiAudience,
    state,
    nonce,
    code_challenge: createHash("sha256").update(codeVerifier).digest("base64url"),
    code_challenge_method: "S256",
    ...extra,
  };
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return { url, state, nonce, codeVerifier };
}

export function basicAuth(test: TestIdp, secret = test.config.clientSecret): string {
  const encode = (value: string) => encodeURIComponent(value);
  return `Basic ${Buffer.from(`${encode(test.config.clientId)}:${encode(secret)}`).toString("base64")}`;
}

export async function tokenRequest(test: TestIdp, params: Record<string, string>, secret?: string) {
  const response = await fetch(new URL("/token", test.config.issuer), {
    method: "POST",
    headers: { authorization: basicAuth(test, secret), "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(params),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/**
 * Runs the authorization request in `browser` up to the redirect back to the web app, signing in on the login page
 * when the IdP shows one. Returns where the browser was sent.
 */
export async function authorize(
  test: TestIdp,
  browser: TestBrowser,
  request: AuthorizationRequest,
  credentials?: { username: string; password: string },
): Promise<URL> {
  const issuerOrigin = new URL(test.config.issuer).origin;
  const first = await browser.follow(request.url, issuerOrigin);
  if (first.leftTo) return first.leftTo;
  if (!credentials) throw new Error(`expected a redirect to the web app, got ${first.response.status}`);

  const page = await first.response.text();
  const { action } = readForm(page);
  const submitted = await browser.follow(new URL(action, test.config.issuer), issuerOrigin, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: issuerOrigin },
    body: new URLSearchParams(credentials),
  });
  if (!submitted.leftTo) throw new Error(`sign-in did not complete: ${submitted.response.status}`);
  return submitted.leftTo;
}

/** Signs in and exchanges the code exactly as the web app does (no `resource` at the token endpoint). */
export async function signIn(
  test: TestIdp,
  credentials = { username: "alice", password: "wonderland" },
  browser = new TestBrowser(),
) {
  const request = authorizationRequest(test);
  const callback = await authorize(test, browser, request, credentials);
  const code = callback.searchParams.get("code");
  if (!code) throw new Error(`no code in callback: ${callback.search}`);
  const tokens = await tokenRequest(test, {
    grant_type: "authorization_code",
    code,
    redirect_uri: test.redirectUri,
    code_verifier: request.codeVerifier,
  });
  if (tokens.status !== 200) throw new Error(`code exchange failed: ${JSON.stringify(tokens.body)}`);
  return { browser, request, callback, tokens: tokens.body as Record<string, string> & { expires_in: number } };
}
