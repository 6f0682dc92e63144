/**
 * Every call to the IdP, timed (`tessera.idp.request.duration`) and traced (a client span `idp <endpoint>`), by
 * endpoint. With telemetry off the wrapper hands the call straight on. Edge-safe.
 */
import { recordIdpCall, telemetryOn, type IdpEndpoint } from "@/lib/telemetry/signals";
import { inSpan, SpanKind, tracingOn } from "@/lib/telemetry/spans";

/** `endpoint`: which one this fetch calls, or how to tell from the URL (Auth.js's fetch serves several). */
export function observedIdpFetch(endpoint: IdpEndpoint | ((url: URL) => IdpEndpoint), fetchImpl: typeof fetch = fetch): typeof fetch {
  return (input, init) => {
    if (!telemetryOn() && !tracingOn()) return fetchImpl(input, init);
    const name = typeof endpoint === "string" ? endpoint : endpoint(new URL(input instanceof Request ? input.url : input));
    return inSpan(
      `idp ${name}`,
      async (span) => {
        const started = performance.now();
        const seconds = () => (performance.now() - started) / 1000;
        try {
          const response = await fetchImpl(input, init);
          recordIdpCall(name, seconds(), response.status);
          span?.setAttribute("http.response.status_code", response.status);
          return response;
        } catch (error) {
          recordIdpCall(name, seconds(), undefined, error instanceof DOMException && error.name === "TimeoutError" ? "timeout" : "unreachable");
          throw error;
        }
      },
      { kind: SpanKind.CLIENT, attributes: { "tessera.idp.endpoint": name } },
    );
  };
}

/** Auth.js asks the IdP for its discovery document and, at sign-in, for tokens. */
export const authJsEndpoint = (url: URL): IdpEndpoint => (url.pathname.endsWith("/.well-known/openid-configuration") ? "discovery" : "token");
