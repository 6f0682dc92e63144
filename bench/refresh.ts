/**
 * Silent refresh under load: many signed-in sessions, each driven by a few connections at once (as a
 * browser tab fires parallel fetches), with access tokens that expire every few seconds.
 *
 * Each session keeps one cookie jar shared by its connections and takes every `Set-Cookie` the app
 * sends, dropping cookies whose Max-Age has passed, like a browser. Afterwards each session's cookies
 * are opened with the benchmark's own `AUTH_SECRET`, which gives the chain of access tokens it went through: every token replaced is one
 * expiry. The IdP's refresh grants must match the expiries one for one: more would be duplicate
 * token-endpoint calls, fewer would be impossible without failed requests.
 */
import autocannon from "autocannon";
import type { SessionCodec } from "@/lib/session/codec";
import { COOKIE_NAMES, joinChunks } from "@/lib/session/cookies";
import { sessionFromPayload, type Session } from "@/lib/session/session";
import { fetchTestHook } from "../scripts/test-hooks";
import type { CookieJar } from "../services/idp/testing/cookie-jar";
import type { Browser } from "./browser";
import { median } from "./load";

export interface IdpStats {
  refreshGrants: number;
  codeGrants: number;
  refreshFailures: number;
}

export async function idpStats(idp: URL): Promise<IdpStats> {
  const response = await fetchTestHook(idp, "stats");
  if (!response.ok) throw new Error(`IdP stats hook answered ${response.status}: are IDP_TEST_HOOKS=1 and this run's TEST_HOOKS_TOKEN set?`);
  return (await response.json()) as IdpStats;
}

export interface RefreshSettings {
  web: URL;
  idp: URL;
  /** Signed-in browsers, one per session. */
  browsers: Browser[];
  connectionsPerSession: number;
  seconds: number;
  accessTokenTtl: number;
  codec: SessionCodec;
  progress: (message: string) => void;
}

export interface RefreshResult {
  sessions: number;
  connections: number;
  seconds: number;
  accessTokenTtl: number;
  requests: number;
  rps: number;
  failedRequests: number;
  /** Access tokens that came due and were replaced, over all sessions. */
  expiries: number;
  refreshGrants: number;
  refreshFailures: number;
  /** Replacements of a token that was not yet due: a second refresh for one expiry. */
  premature: number;
  /** Sessions whose token was due at the end and never replaced. */
  missed: number;
  refreshesPerSession: { min: number; median: number; max: number };
  ok: boolean;
}

const PATH = "/api/notes";
const HEADERS = { "x-csrf": "1" };

interface LoadSession {
  jar: CookieJar;
  clients: autocannon.Client[];
  /** The `Cookie` header its clients send. */
  cookie: string;
  /** Every sealed session value the browser held, in order. */
  sealed: string[];
}

function remember(session: LoadSession): void {
  const sealed = joinChunks(COOKIE_NAMES.session, session.jar.list(PATH));
  if (sealed && sealed !== session.sealed.at(-1)) session.sealed.push(sealed);
}

function setCookiesOf(rawHeaders: readonly string[]): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === "set-cookie") values.push(rawHeaders[i + 1]!);
  return values;
}

/** The distinct sessions a browser held, in order; a value that cannot be opened fails the run. */
async function tokenChain(codec: SessionCodec, sealed: readonly string[]): Promise<Session[]> {
  const chain: Session[] = [];
  for (const value of sealed) {
    const session = sessionFromPayload(await codec.open(value));
    if (!session) throw new Error("a session cookie the app set could not be opened");
    if (!chain.some((known) => known.accessToken === session.accessToken)) chain.push(session);
  }
  return chain;
}

export async function refreshUnderLoad(settings: RefreshSettings): Promise<RefreshResult> {
  const { web, idp, browsers, connectionsPerSession, seconds, accessTokenTtl, codec, progress } = settings;
  const sessions: LoadSession[] = browsers.map((browser) => ({ jar: browser.jar(web.origin), clients: [], cookie: "", sealed: [] }));
  const sendCurrentCookies = (session: LoadSession) => {
    const cookie = session.jar.header(PATH);
    if (cookie === session.cookie) return;
    session.cookie = cookie;
    for (const client of session.clients) client.setHeaders({ ...HEADERS, cookie });
  };
  sessions.forEach(remember);
  const before = await idpStats(idp);

  let assigned = 0;
  const instance = autocannon({
    url: new URL(PATH, web).href,
    connections: sessions.length * connectionsPerSession,
    duration: seconds,
    timeout: 10,
    headers: HEADERS,
    setupClient(client) {
      const session = sessions[assigned++ % sessions.length]!;
      session.clients.push(client);
      client.setHeaders({ ...HEADERS, cookie: session.jar.header(PATH) });
      client.on("headers", ({ headers }: { headers: string[] }) => {
        const setCookies = setCookiesOf(headers);
        if (setCookies.length === 0) return;
        session.jar.store(setCookies, PATH);
        remember(session);
        sendCurrentCookies(session);
      });
    },
  });
  let answered = 0;
  instance.on("response", () => (answered += 1));
  const started = Date.now();
  const ticker = setInterval(() => progress(`${Math.round((Date.now() - started) / 1000)} s of ${seconds} s: ${answered} requests`), 10_000);
  // A browser stops sending a cookie whose Max-Age has passed (the freshness hint) by itself; so do these clients.
  const expiry = setInterval(() => sessions.forEach(sendCurrentCookies), 100);
  let result: autocannon.Result;
  try {
    result = await instance;
  } finally {
    clearInterval(ticker);
    clearInterval(expiry);
  }

  // A refresh whose answer was cut off when the load stopped still reaches the browser: the next request
  // with the old cookie is handed the new session. One more request per session also catches any due
  // token left unrefreshed.
  let failedDrains = 0;
  const drainedAt: number[] = [];
  for (const [index, session] of sessions.entries()) {
    drainedAt.push(Date.now() / 1000);
    const response = await browsers[index]!.request(new URL(PATH, web), { headers: HEADERS });
    await response.body?.cancel();
    if (!response.ok) failedDrains += 1;
    remember(session);
  }
  const after = await idpStats(idp);

  let expiries = 0;
  let premature = 0;
  let missed = 0;
  const perSession: number[] = [];
  for (const [index, session] of sessions.entries()) {
    const chain = await tokenChain(codec, session.sealed);
    perSession.push(chain.length - 1);
    for (let i = 1; i < chain.length; i += 1) {
      // Token responses are stamped in whole seconds: a refresh at or after `refreshAt` is stamped no earlier than its floor.
      const issuedAt = chain[i]!.accessTokenExpiresAt - accessTokenTtl;
      if (issuedAt >= Math.floor(chain[i - 1]!.refreshAt)) expiries += 1;
      else premature += 1;
    }
    if (chain.at(-1)!.refreshAt <= drainedAt[index]!) missed += 1;
  }

  const refreshGrants = after.refreshGrants - before.refreshGrants;
  const refreshFailures = after.refreshFailures - before.refreshFailures;
  const failedRequests = result.errors + result.timeouts + result.non2xx + failedDrains;
  return {
    sessions: sessions.length,
    connections: sessions.length * connectionsPerSession,
    seconds,
    accessTokenTtl,
    requests: result.requests.total,
    rps: result.requests.total / result.duration,
    failedRequests,
    expiries,
    refreshGrants,
    refreshFailures,
    premature,
    missed,
    refreshesPerSession: { min: Math.min(...perSession), median: median(perSession), max: Math.max(...perSession) },
    ok: refreshGrants === expiries && premature === 0 && missed === 0 && refreshFailures === 0 && failedRequests === 0,
  };
}
