/**
 * The `fetch` oidc-provider uses for its outgoing requests; here that is only back-channel logout delivery.
 *
 * oidc-provider protects outgoing requests against SSRF with a dispatcher that refuses loopback and private
 * addresses. This IdP exists to serve a web app on `localhost`, so that protection would make back-channel logout
 * impossible. It is replaced by a stricter rule that fits the deployment: requests may only go to the origins of the
 * registered client endpoints (the web app), whatever address those resolve to.
 */
export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

export function createOutboundFetch(allowedOrigins: readonly string[], baseFetch: Fetch = globalThis.fetch): Fetch {
  const allowed = new Set(allowedOrigins.map((origin) => new URL(origin).origin));
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input);
    if (!allowed.has(url.origin)) {
      throw new Error(`outgoing request to ${url.origin} refused: only registered client origins are allowed`);
    }
    // `dispatcher` is an undici extension of RequestInit that carries oidc-provider's address filter.
    const { dispatcher: _dispatcher, ...rest } = (init ?? {}) as RequestInit & { dispatcher?: unknown };
    return baseFetch(input, rest);
  };
}
