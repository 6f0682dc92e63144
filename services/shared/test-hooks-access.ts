import { createHash, timingSafeEqual } from "node:crypto";

/**
 * Who may use the test hooks of the dev IdP (`IDP_TEST_HOOKS=1`) and of the API (`API_TEST_HOOKS=1`). A loopback
 * bind alone does not keep them to the test runner: every page the developer's or CI's browser opens can send
 * simple cross-site requests to `localhost`, and DNS rebinding lets such a page read the answers. So a request
 * reaches a hook only when
 *
 * - its `Host` is a loopback name (`localhost`, `127.0.0.1`, `[::1]`) with one of the service's ports: a rebound
 *   request carries the attacker's host name;
 * - it carries this run's `TEST_HOOKS_TOKEN` in `x-test-hooks-token`: a page cannot know it, and a simple
 *   cross-site request cannot add the header (a preflight for it finds no CORS answer).
 *
 * Any other request is treated as if the hooks did not exist (the service answers it as it answers any unknown
 * path: 404), rather than with a 401 or 403, which would tell a probing page that it found the hooks.
 */

export const TEST_HOOKS_HEADER = "x-test-hooks-token";
export const MIN_TEST_HOOKS_TOKEN_LENGTH = 32;

const LOOPBACK_NAMES = ["localhost", "127.0.0.1", "[::1]"];

/** What a service with its hooks on checks every hook request against. */
export interface TestHooksAccess {
  token: string;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Whether `raw` is an http(s) URL whose host is a loopback name, as a URL's hostname spells it. */
export function isLoopbackUrl(raw: string): boolean {
  const url = URL.parse(raw);
  return url !== null && (url.protocol === "http:" || url.protocol === "https:") && LOOPBACK_NAMES.includes(url.hostname);
}

/**
 * The access settings of a service whose hooks `enabledBy` (`IDP_TEST_HOOKS`, `API_TEST_HOOKS`) has just turned
 * on; problems go to `problems`, naming the variable and never echoing the token. In production the hooks are
 * refused unless every URL in `loopbackUrls` (the service's public addresses, by variable name) is on loopback:
 * the end-to-end suite, the benchmark and the cluster tests run production builds on this machine, a deployment
 * never does.
 */
export function readTestHooksAccess(
  env: Env,
  { enabledBy, production, loopbackUrls }: { enabledBy: string; production: boolean; loopbackUrls: Readonly<Record<string, string>> },
  problems: string[],
): TestHooksAccess | undefined {
  const token = env.TEST_HOOKS_TOKEN?.trim() ?? "";
  if (token === "") {
    problems.push(
      `${enabledBy}=1 requires TEST_HOOKS_TOKEN: a random value of at least ${MIN_TEST_HOOKS_TOKEN_LENGTH} characters, new for each run, which every hook request carries in ${TEST_HOOKS_HEADER}`,
    );
  } else if (token.length < MIN_TEST_HOOKS_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(token)) {
    problems.push(`TEST_HOOKS_TOKEN must be at least ${MIN_TEST_HOOKS_TOKEN_LENGTH} printable ASCII characters without spaces (openssl rand -base64 32)`);
  }
  if (production) {
    for (const [name, value] of Object.entries(loopbackUrls)) {
      if (!isLoopbackUrl(value)) {
        problems.push(`${enabledBy}=1 is refused in production unless ${name} is on loopback (localhost, 127.0.0.1 or [::1]): test hooks never run in a deployment`);
      }
    }
  }
  return token === "" ? undefined : { token };
}

const digest = (value: string) => createHash("sha256").update(value).digest();

/**
 * The check in front of every hook. `ports` are those a caller may name in `Host`: the port the service listens
 * on, and its public URL's where that differs (a proxy in front, as the interoperability tests' IdP double).
 */
export function createTestHooksGuard({ token }: TestHooksAccess, ports: readonly number[]): (host: string | undefined, presented: string | undefined) => boolean {
  const hosts = new Set(
    LOOPBACK_NAMES.flatMap((name) => ports.flatMap((port) => [`${name}:${port}`, ...(port === 80 || port === 443 ? [name] : [])])),
  );
  const expected = digest(token);
  return (host, presented) => {
    const hostAllowed = host !== undefined && hosts.has(host.toLowerCase());
    // Digests of equal length, so the comparison takes the same time whatever was presented, its length included.
    const tokenMatches = timingSafeEqual(digest(presented ?? ""), expected);
    return hostAllowed && tokenMatches;
  };
}
