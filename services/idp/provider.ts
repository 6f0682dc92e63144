import Provider, { errors, type ClientMetadata, type Configuration, type FindAccount, type ResourceServer } from "oidc-provider";
import { CLAIMS_BY_SCOPE, createFindAccount } from "./users/accounts";
import type { IdpConfig } from "./config";
import { createLoadExistingGrant } from "./first-party-consent";
import { INTERACTION_PATH } from "./interactions";
import { ACCESS_TOKEN_SIGNING_ALG, ID_TOKEN_SIGNING_ALG, type IdpKeys } from "./keys";
import { createOutboundFetch, type Fetch } from "./outbound-fetch";
import { createProviderPages } from "./pages/provider-pages";
import { USERS, type User } from "./users/users";

export const API_SCOPES = ["notes:read", "notes:write"] as const;

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export interface ProviderOptions {
  config: IdpConfig;
  keys: IdpKeys;
  /** Transport for back-channel logout delivery; tests inject their own. */
  fetch?: Fetch;
  users?: readonly User[];
  /** Claims added on top of the account's own; only the test hooks supply them. */
  extraClaims?: ExtraClaims;
}

/**
 * Claims that a subject's ID tokens and access tokens carry on top of the account's own. `names` are released with
 * the `openid` scope, so every ID token may carry them; an access token carries whatever `for` returns.
 */
export interface ExtraClaims {
  names: readonly string[];
  for(sub: string): Record<string, unknown> | undefined;
}

function withExtraClaims(findAccount: FindAccount, extra: ExtraClaims): FindAccount {
  return async (ctx, sub, token) => {
    const account = await findAccount(ctx, sub, token);
    if (!account) return undefined;
    return { ...account, claims: async (...args) => ({ ...(await account.claims(...args)), ...extra.for(sub) }) };
  };
}

/** Clients that are part of Tessera itself: their users are never asked for consent. */
export function firstPartyClientIds(config: IdpConfig): ReadonlySet<string> {
  return new Set([config.clientId]);
}

/** The web app (BFF): the one confidential, first-party client of this IdP. */
export function seededClient(config: IdpConfig): ClientMetadata {
  return {
    client_id: config.clientId,
    client_secret: config.clientSecret,
    client_name: "Tessera",
    application_type: "web",
    token_endpoint_auth_method: config.clientAuthMethod,
    ...(config.clientPublicKey ? { jwks: { keys: [config.clientPublicKey] } } : {}),
    grant_types: ["authorization_code", "refresh_token"],
    response_types: ["code"],
    redirect_uris: [`${config.authUrl}/auth/callback/oidc`],
    post_logout_redirect_uris: [`${config.authUrl}/signed-out`, `${config.authUrl}/`],
    backchannel_logout_uri: `${config.authUrl}/auth/backchannel-logout`,
    backchannel_logout_session_required: true,
    id_token_signed_response_alg: ID_TOKEN_SIGNING_ALG,
  };
}

/**
 * Builds the OpenID Provider. Storage is oidc-provider's default in-memory adapter: sessions, grants and refresh
 * tokens live in this process only, so a restart signs everybody out. That is acceptable for a development IdP
 * and keeps it free of a database; signing and cookie keys are persisted separately, so tokens already handed to
 * the API stay verifiable across restarts.
 */
export function createProvider({ config, keys, fetch, users = USERS, extraClaims }: ProviderOptions): Provider {
  const client = seededClient(config);
  const firstParty = firstPartyClientIds(config);
  const webAppOrigin = new URL(config.authUrl).origin;
  const pages = createProviderPages([webAppOrigin], firstParty);

  const apiResourceServer: ResourceServer = {
    scope: API_SCOPES.join(" "),
    audience: config.apiAudience,
    accessTokenFormat: "jwt",
    accessTokenTTL: config.accessTokenTtlSeconds,
    jwt: { sign: { alg: ACCESS_TOKEN_SIGNING_ALG } },
  };

  const findAccount = createFindAccount(users);

  const configuration: Configuration = {
    clients: [client],
    jwks: keys.jwks as Configuration["jwks"],
    findAccount: extraClaims ? withExtraClaims(findAccount, extraClaims) : findAccount,
    claims: extraClaims ? { ...CLAIMS_BY_SCOPE, openid: [...CLAIMS_BY_SCOPE.openid, ...extraClaims.names] } : CLAIMS_BY_SCOPE,
    scopes: ["openid", "offline_access", "profile", "email"],
    responseTypes: ["code"],
    // Relying parties read the profile from the ID token, so the scope-based claims go there too, not only to
    // the userinfo endpoint.
    conformIdTokenClaims: false,

    loadExistingGrant: createLoadExistingGrant(firstParty),

    // oidc-provider removes `offline_access` from any authorization request without `prompt=consent` (OpenID
    // Connect Core, section 11), and by default only issues refresh tokens for `offline_access`. The web app
    // needs refresh tokens to keep short-lived access tokens fresh while its user is active, not offline access,
    // so first-party clients get one regardless of that scope. Without `offline_access` the refresh token stays
    // bound to the IdP session (oidc-provider's `expiresWithSession` default): signing out at the IdP, directly
    // or through RP-initiated logout, revokes it, which is what a session-bound web app wants.
    issueRefreshToken: (_ctx, oidcClient, source) =>
      oidcClient.grantTypeAllowed("refresh_token") &&
      (source.scopes.has("offline_access") || firstParty.has(oidcClient.clientId)),
    rotateRefreshToken: true,

    pkce: { required: () => true },

    extraTokenClaims: (_ctx, token) => {
      if (token.kind !== "AccessToken") return undefined;
      const extra = token.accountId ? extraClaims?.for(token.accountId) : undefined;
      // RFC 9068 access tokens carry `sid` so the API can honour session-wide revocation (back-channel logout
      // names the session by the same `sid`). oidc-provider tracks it but leaves it out of the JWT by default.
      const sid = token.sid ? { sid: token.sid } : undefined;
      return extra || sid ? { ...extra, ...sid } : undefined;
    },

    features: {
      devInteractions: { enabled: false },
      revocation: {
        enabled: true,
        allowedPolicy: (_ctx, requestingClient, token) => {
          if (token.clientId !== requestingClient.clientId) {
            throw new errors.InvalidRequest("client is not authorized to revoke the presented token");
          }
          return true;
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: pages.logoutSource,
        postLogoutSuccessSource: pages.postLogoutSuccessSource,
      },
      backchannelLogout: { enabled: true },
      introspection: { enabled: false },
      pushedAuthorizationRequests: { enabled: false },
      // Auth.js refuses an issuer whose discovery lacks a userinfo endpoint, though it reads the profile from the
      // ID token: the endpoint is advertised, and unused by the web app.
      userinfo: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => {
          if (!oneOf) return config.apiAudience;
          return oneOf.includes(config.apiAudience) ? config.apiAudience : oneOf;
        },
        // Lets the token endpoint mint the API access token from the resource granted at authorization, so
        // neither the code exchange nor a refresh needs to repeat `resource`.
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resourceIndicator, requestingClient) => {
          if (resourceIndicator === config.apiAudience && firstParty.has(requestingClient.clientId)) {
            return apiResourceServer;
          }
          throw new errors.InvalidTarget();
        },
      },
    },

    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? config.accessTokenTtlSeconds,
      AuthorizationCode: MINUTE,
      IdToken: HOUR,
      Interaction: HOUR,
      RefreshToken: 14 * DAY,
      Session: 14 * DAY,
      Grant: 14 * DAY,
    },

    interactions: {
      url: (_ctx, interaction) => `${INTERACTION_PATH}/${interaction.uid}`,
    },

    cookies: {
      keys: keys.cookieKeys,
      // The browser shares cookies between localhost:4000 (this IdP) and localhost:3000 (the web app), since
      // cookies ignore the port. Distinct names keep the two apps from reading or overwriting each other's.
      names: {
        session: "tessera_idp_session",
        interaction: "tessera_idp_interaction",
        resume: "tessera_idp_interaction_resume",
      },
      // No explicit `secure`: the cookie library then marks cookies secure exactly when the request came over
      // https, so the same settings work for the plain-http issuer on localhost and for an https one.
      long: { httpOnly: true, sameSite: "lax" },
      short: { httpOnly: true, sameSite: "lax" },
    },

    clientBasedCORS: () => false,
    renderError: pages.renderError,
    fetch: createOutboundFetch([webAppOrigin], fetch),
  };

  return new Provider(config.issuer, configuration);
}
