/**
 * An IdP double for the interoperability tests: a reverse proxy in front of the real dev IdP (whose issuer is the
 * double's address), which can be switched into the deviations real IdPs show, and which counts what the web app
 * asked of it. Everything it does not deviate on is the real oidc-provider's answer.
 *
 * - `refresh`: how the token endpoint answers a refresh grant: as the IdP does, a 400 with an empty body (no
 *   RFC 6749 JSON), a 503, or not at all (the connection hangs until the mode changes).
 * - `codeExchange`: `unauthorized_client` refuses the sign-in's code exchange, as an IdP whose client lacks a grant.
 * - `strictBasic`: HTTP Basic client credentials are compared as they arrive, without percent-decoding them.
 * - `logoutNeedsState`: the end-session endpoint sends the browser back only when the request carries `state`;
 *   otherwise it shows a page of its own.
 * - `noIdTokenOnRefresh`: refresh answers carry no ID token.
 */
import { createServer, request as forward, type IncomingMessage, type Server, type ServerResponse } from "node:http";

export interface Deviations {
  refresh: "answer" | "refuse-empty-400" | "fail-503" | "hang";
  codeExchange: "answer" | "unauthorized_client";
  strictBasic: boolean;
  logoutNeedsState: boolean;
  noIdTokenOnRefresh: boolean;
}

export const AS_SPECIFIED: Deviations = { refresh: "answer", codeExchange: "answer", strictBasic: false, logoutNeedsState: false, noIdTokenOnRefresh: false };

/** What the web app sent the double, and how it was answered. */
export interface Seen {
  refreshes: number[];
  codeExchanges: number[];
  revocations: number[];
  endSessions: Array<{ state: string | null; idTokenHint: boolean; clientId: string | null }>;
  /** How the client authenticated at the token and revocation endpoints, request by request. */
  clientAuthentication: Array<"client_secret_basic" | "client_secret_post" | "private_key_jwt" | "none">;
}

export interface IdpDouble {
  deviate(deviations: Partial<Deviations>): void;
  seen: Seen;
  /** Forgets what was seen, and restores the IdP as specified (strict Basic stays as configured). */
  reset(): void;
  close(): Promise<void>;
}

const readBody = (req: IncomingMessage) =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });

/** The client id and secret of a Basic header, exactly as sent: base64-decoded, never percent-decoded. */
function basicCredentials(header: string | undefined): [string, string] | undefined {
  const encoded = /^Basic (\S+)$/i.exec(header ?? "")?.[1];
  if (!encoded) return undefined;
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  return colon === -1 ? undefined : [decoded.slice(0, colon), decoded.slice(colon + 1)];
}

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" }).end(JSON.stringify(body));
};

export async function startIdpDouble(options: { port: number; idpPort: number; clientId: string; clientSecret: string; strictBasic: boolean }): Promise<IdpDouble> {
  let deviations: Deviations = { ...AS_SPECIFIED, strictBasic: options.strictBasic };
  const seen: Seen = { refreshes: [], codeExchanges: [], revocations: [], endSessions: [], clientAuthentication: [] };
  const hanging = new Set<ServerResponse>();

  /** Sends the request on to the real IdP (its body as read, or else as it streams in); `rewrite` may change a JSON answer. */
  function pass(req: IncomingMessage, res: ServerResponse, body: Buffer | undefined, onAnswer?: (status: number) => void, rewrite?: (json: Record<string, unknown>) => void) {
    const upstream = forward({ host: "127.0.0.1", port: options.idpPort, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      onAnswer?.(answer.statusCode ?? 0);
      if (!rewrite || !answer.headers["content-type"]?.includes("json")) {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        return;
      }
      void readBody(answer).then((raw) => {
        const parsed = JSON.parse(raw.toString("utf8")) as Record<string, unknown>;
        rewrite(parsed);
        const out = Buffer.from(JSON.stringify(parsed));
        res.writeHead(answer.statusCode ?? 502, { ...answer.headers, "content-length": String(out.length) }).end(out);
      });
    });
    upstream.on("error", () => res.writeHead(502).end());
    if (body === undefined) req.pipe(upstream);
    else upstream.end(body);
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? "/", "http://double.invalid");
    if (url.pathname === "/session/end" && req.method === "GET") {
      seen.endSessions.push({ state: url.searchParams.get("state"), idTokenHint: url.searchParams.has("id_token_hint"), clientId: url.searchParams.get("client_id") });
      if (deviations.logoutNeedsState && !url.searchParams.has("state")) {
        res.writeHead(200, { "content-type": "text/html" }).end("<h1>You have been signed out of the identity provider.</h1>");
        return;
      }
      return pass(req, res, undefined);
    }
    if (req.method !== "POST" || (url.pathname !== "/token" && url.pathname !== "/token/revocation")) return pass(req, res, undefined);

    const body = await readBody(req);
    const form = new URLSearchParams(body.toString());
    const credentials = basicCredentials(req.headers.authorization);
    seen.clientAuthentication.push(
      credentials ? "client_secret_basic" : form.has("client_secret") ? "client_secret_post" : form.has("client_assertion") ? "private_key_jwt" : "none",
    );
    if (deviations.strictBasic && credentials && (credentials[0] !== options.clientId || credentials[1] !== options.clientSecret)) {
      const record = url.pathname === "/token/revocation" ? seen.revocations : form.get("grant_type") === "refresh_token" ? seen.refreshes : seen.codeExchanges;
      record.push(401);
      return json(res, 401, { error: "invalid_client" });
    }
    if (url.pathname === "/token/revocation") return pass(req, res, body, (status) => seen.revocations.push(status));

    const grant = form.get("grant_type");
    if (grant === "authorization_code") {
      if (deviations.codeExchange === "unauthorized_client") {
        seen.codeExchanges.push(400);
        return json(res, 400, { error: "unauthorized_client", error_description: "the client may not use this grant" });
      }
      return pass(req, res, body, (status) => seen.codeExchanges.push(status));
    }
    if (grant !== "refresh_token") return pass(req, res, body);
    switch (deviations.refresh) {
      case "refuse-empty-400":
        seen.refreshes.push(400);
        return res.writeHead(400).end();
      case "fail-503":
        seen.refreshes.push(503);
        return res.writeHead(503, { "content-type": "text/html" }).end("<html>Service Unavailable</html>");
      case "hang":
        seen.refreshes.push(0);
        hanging.add(res);
        return;
      case "answer":
        return pass(
          req,
          res,
          body,
          (status) => seen.refreshes.push(status),
          deviations.noIdTokenOnRefresh ? (answer) => delete answer.id_token : undefined,
        );
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.writeHead(500).end());
  });
  await new Promise<void>((resolve) => server.listen(options.port, "127.0.0.1", resolve));

  const releaseHanging = () => {
    for (const res of hanging) res.socket?.destroy();
    hanging.clear();
  };

  return {
    seen,
    deviate(changes) {
      deviations = { ...deviations, ...changes };
      if (deviations.refresh !== "hang") releaseHanging();
    },
    reset() {
      releaseHanging();
      deviations = { ...AS_SPECIFIED, strictBasic: options.strictBasic };
      for (const list of Object.values(seen)) list.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        releaseHanging();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
