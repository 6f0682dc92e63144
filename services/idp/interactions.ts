import type { IncomingMessage, ServerResponse } from "node:http";
import type Provider from "oidc-provider";
import { errors, type Interaction } from "oidc-provider";
import { escapeHtml, htmlSecurityHeaders, renderPage } from "./pages/html";
import { INVALID_CREDENTIALS_MESSAGE, renderLoginPage } from "./pages/login-page";
import type { Logger } from "./logger";
import type { User } from "./users/users";

/**
 * The end-user facing part of the authorization flow: oidc-provider redirects the browser to
 * `/interaction/<uid>` whenever it needs the user, and this module answers with the login page and handles its
 * submission.
 *
 * The interaction is always looked up through `provider.interactionDetails`, which reads its id from a signed,
 * `SameSite=Lax` cookie the provider set on this browser; the id in the URL must match it. A form posted from
 * another site therefore carries no usable interaction, and neither does a guessed or replayed URL.
 */

export const INTERACTION_PATH = "/interaction";
const ROUTE = /^\/interaction\/([A-Za-z0-9_-]{1,128})(\/login)?$/;
const MAX_FORM_BYTES = 8 * 1024;

export interface InteractionHandlerOptions {
  provider: Provider;
  firstPartyClientIds: ReadonlySet<string>;
  /** Origins the browser is sent on to after a completed interaction (the client's redirect URIs). */
  formActionOrigins: readonly string[];
  authenticate: (username: string, password: string) => Promise<User | undefined>;
  log: Logger;
}

/** Handles the request when it belongs to an interaction route and reports whether it did. */
export function createInteractionHandler({
  provider,
  firstPartyClientIds,
  formActionOrigins,
  authenticate,
  log,
}: InteractionHandlerOptions) {
  const issuerOrigin = new URL(provider.issuer).origin;

  const sendHtml = (res: ServerResponse, status: number, html: string) => {
    res.writeHead(status, htmlSecurityHeaders(formActionOrigins));
    res.end(html);
  };

  const sendMessage = (res: ServerResponse, status: number, heading: string, message: string) =>
    sendHtml(
      res,
      status,
      renderPage({
        title: `${heading} - Tessera development IdP`,
        body: `<h2>${escapeHtml(heading)}</h2>\n<p>${escapeHtml(message)}</p>`,
      }),
    );

  const sendExpired = (res: ServerResponse) =>
    sendMessage(
      res,
      400,
      "Sign-in expired",
      "This sign-in request has expired or was already completed. Return to the application and sign in again.",
    );

  async function findInteraction(req: IncomingMessage, res: ServerResponse, uid: string) {
    let interaction: Interaction;
    try {
      interaction = await provider.interactionDetails(req, res);
    } catch (error) {
      if (error instanceof errors.SessionNotFound) return undefined;
      throw error;
    }
    return interaction.uid === uid ? interaction : undefined;
  }

  async function clientName(interaction: Interaction): Promise<string> {
    const clientId = interaction.params.client_id;
    if (typeof clientId !== "string") return "the application";
    const client = await provider.Client.find(clientId);
    return client?.clientName ?? clientId;
  }

  function renderLogin(res: ServerResponse, uid: string, name: string, username?: string, error?: string) {
    sendHtml(res, 200, renderLoginPage({ action: `${INTERACTION_PATH}/${uid}/login`, clientName: name, username, error }));
  }

  async function showInteraction(req: IncomingMessage, res: ServerResponse, uid: string) {
    const interaction = await findInteraction(req, res, uid);
    if (!interaction) return sendExpired(res);

    if (interaction.prompt.name === "login") {
      return renderLogin(res, uid, await clientName(interaction));
    }
    const clientId = interaction.params.client_id;
    if (
      interaction.prompt.name === "consent" &&
      typeof clientId === "string" &&
      firstPartyClientIds.has(clientId) &&
      interaction.grantId
    ) {
      // Only reached when the request itself demands consent (`prompt=consent`): the grant already covers the
      // whole request (see first-party-consent.ts), so the answer is yes, without a screen.
      return provider.interactionFinished(
        req,
        res,
        { consent: { grantId: interaction.grantId } },
        { mergeWithLastSubmission: true },
      );
    }
    // No other client is registered: any other prompt means a request this IdP does not serve.
    log.warn(`[idp] interaction prompt "${interaction.prompt.name}" is not supported; denying the request`);
    await provider.interactionFinished(
      req,
      res,
      { error: "access_denied", error_description: "this development IdP only serves its first-party client" },
      { mergeWithLastSubmission: false },
    );
  }

  async function submitLogin(req: IncomingMessage, res: ServerResponse, uid: string) {
    if (isCrossSite(req, issuerOrigin)) {
      return sendMessage(res, 403, "Request refused", "The sign-in form was submitted from another site.");
    }
    const interaction = await findInteraction(req, res, uid);
    if (!interaction || interaction.prompt.name !== "login") return sendExpired(res);

    const form = await readForm(req);
    if (form === "too-large") {
      // The rest of the body is left unread, so the connection cannot be reused.
      res.setHeader("connection", "close");
      return sendMessage(res, 413, "Request refused", "The submitted form is too large.");
    }
    if (!form) {
      return sendMessage(res, 415, "Request refused", "The sign-in form must be submitted as a web form.");
    }

    const username = form.get("username") ?? "";
    const password = form.get("password") ?? "";
    const user = await authenticate(username, password);
    if (!user) {
      return renderLogin(res, uid, await clientName(interaction), username, INVALID_CREDENTIALS_MESSAGE);
    }

    await provider.interactionFinished(
      req,
      res,
      { login: { accountId: user.sub, amr: ["pwd"] } },
      { mergeWithLastSubmission: false },
    );
  }

  return async function handleInteraction(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const { pathname } = new URL(req.url ?? "/", "http://idp.invalid");
    const match = ROUTE.exec(pathname);
    if (!match) return false;
    const uid = match[1] as string;
    const isLoginSubmission = match[2] !== undefined;

    if (!isLoginSubmission && req.method === "GET") {
      await showInteraction(req, res, uid);
    } else if (isLoginSubmission && req.method === "POST") {
      await submitLogin(req, res, uid);
    } else {
      res.writeHead(405, { allow: isLoginSubmission ? "POST" : "GET", "content-type": "text/plain; charset=utf-8" });
      res.end("Method Not Allowed");
    }
    return true;
  };
}

/**
 * A second line of defence next to the `SameSite` interaction cookie: browsers label cross-site form posts with
 * `Origin` and `Sec-Fetch-Site`, and those are refused outright.
 */
export function isCrossSite(req: IncomingMessage, expectedOrigin: string): boolean {
  const origin = req.headers.origin;
  if (origin !== undefined) return origin !== expectedOrigin;
  const site = req.headers["sec-fetch-site"];
  return site !== undefined && site !== "same-origin";
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams | "too-large" | undefined> {
  const type = (req.headers["content-type"] ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_FORM_BYTES) return "too-large";
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}
