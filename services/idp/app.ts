import type { IncomingMessage, ServerResponse } from "node:http";
import type Provider from "oidc-provider";
import type { IdpConfig } from "./config";
import { escapeHtml, htmlSecurityHeaders, renderPage } from "./pages/html";
import { createInteractionHandler } from "./interactions";
import type { IdpKeys } from "./keys";
import type { Logger } from "./logger";
import type { Fetch } from "./outbound-fetch";
import { createProvider, firstPartyClientIds } from "./provider";
import { createTestHooksGuard } from "../shared/test-hooks-access";
import { createTestHooks } from "./test-hooks";
import { createClaimPadding } from "./test-hooks/claim-padding";
import { authenticate, USERS, type User } from "./users/users";

export interface IdpOptions {
  config: IdpConfig;
  keys: IdpKeys;
  log?: Logger;
  fetch?: Fetch;
  users?: readonly User[];
}

export interface Idp {
  /** Exposed so that optional extensions (for instance test-only hooks behind an explicit flag) can subscribe to
   * oidc-provider's events without changing this module. */
  provider: Provider;
  handler: (req: IncomingMessage, res: ServerResponse) => void;
}

type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/**
 * Assembles the IdP: the login pages (and, when enabled, the test-only hooks) in front, oidc-provider for every
 * protocol endpoint behind them.
 */
export function createIdp({ config, keys, log = console, fetch, users = USERS }: IdpOptions): Idp {
  const padding = config.testHooks ? createClaimPadding() : undefined;
  const provider = createProvider({ config, keys, fetch, users, extraClaims: padding });
  const webAppOrigin = new URL(config.authUrl).origin;
  const interactions = createInteractionHandler({
    provider,
    firstPartyClientIds: firstPartyClientIds(config),
    formActionOrigins: [webAppOrigin],
    authenticate: (username, password) => authenticate(username, password, users),
    log,
  });

  // Only messages and client ids are logged: oidc-provider's context objects hold tokens and credentials.
  provider.on("server_error", (ctx, error) => {
    log.error(`[idp] server error on ${ctx.method} ${ctx.path}: ${error.message}`);
  });
  provider.on("backchannel.error", (_ctx, error, client) => {
    log.warn(`[idp] back-channel logout to client "${client.clientId}" failed: ${error.message}`);
  });

  // The test hooks go first: a simulated outage must silence the login pages as well as the protocol endpoints.
  const routes: RouteHandler[] =
    config.testHooks && padding ? [createTestHooks(provider, padding, createTestHooksGuard(config.testHooks, hookPorts(config))), interactions] : [interactions];
  const providerCallback = provider.callback();

  const route = async (req: IncomingMessage, res: ServerResponse) => {
    for (const handle of routes) {
      if (await handle(req, res)) return;
    }
    await providerCallback(req, res);
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    route(req, res)
      .catch((error: unknown) => {
        log.error(`[idp] error on ${req.method} ${req.url?.split("?")[0]}: ${(error as Error).message}`);
        if (res.headersSent) {
          res.destroy();
          return;
        }
        res.writeHead(500, htmlSecurityHeaders([webAppOrigin]));
        res.end(
          renderPage({
            title: "Error - Tessera development IdP",
            body: `<h2>Something went wrong</h2>\n<p>${escapeHtml("The sign-in could not be completed. Return to the application and try again.")}</p>`,
          }),
        );
      });
  };

  return { provider, handler };
}

/**
 * The ports a hook request may name in `Host`: the one listened on, and the issuer's, where a proxy in front (the
 * interoperability tests' IdP double) passes the browser-facing `Host` on.
 */
function hookPorts({ port, issuer }: IdpConfig): number[] {
  const url = new URL(issuer);
  return [port, Number(url.port || (url.protocol === "https:" ? 443 : 80))];
}
