/**
 * Who is calling: the Bearer token verified (signature, issuer, audience, expiry, type) and checked against the
 * revocation list, then the scope a route needs. Every answer behind `authenticate` is private: its refusals set
 * no-store, and the handlers answer with `privateJson`.
 */
import type { MiddlewareHandler } from "hono";
import type { Logger } from "../logger";
import type { RevocationStore } from "../revocation/store";
import { reasonOf, type RefusalReason } from "../telemetry/reasons";
import { countRevocationHit, countTokenAccepted, countTokenRefused } from "../telemetry/signals";
import { annotateRefusal, verifyTraced } from "../telemetry/tracing";
import { parseAuthorization, type AccessToken } from "../tokens/access-token";
import { insufficientScope, invalidToken, refuseCredentials, refuseToken, unavailable } from "./answers";

export type ApiEnv = { Variables: { token: AccessToken } };

export interface AuthenticateOptions {
  /** Verifies a bearer token; rejects (or throws) with `TokenError`. A token verified before may be answered at once. */
  verifier: (token: string) => AccessToken | Promise<AccessToken>;
  revocations: RevocationStore;
  log: Logger;
}

/** A request whose token did not get through, for the metrics and the request's span. */
function refused(reason: RefusalReason): void {
  countTokenRefused(reason);
  annotateRefusal(reason);
}

export function authenticate({ verifier, revocations, log }: AuthenticateOptions): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    let token: AccessToken;
    try {
      token = await verifyTraced(verifier, parseAuthorization(c.req.header("Authorization")));
    } catch (error) {
      refused(reasonOf(error));
      return refuseToken(c, error, log, "token", (code) => refuseCredentials(c, code));
    }
    let revoked: boolean;
    try {
      revoked = await revocations.isRevoked(token);
    } catch (error) {
      // Failing open would let revoked tokens through whenever the store is down.
      log.error("revocation_check_failed", { error });
      refused("revocation_unavailable");
      return unavailable(c);
    }
    if (revoked) {
      log.info("token_rejected", { code: "revoked", jti: token.jti });
      countRevocationHit();
      refused("revoked");
      return invalidToken(c);
    }
    countTokenAccepted();
    c.set("token", token);
    await next();
  };
}

export const requireScope =
  (scope: string): MiddlewareHandler<ApiEnv> =>
  async (c, next) => {
    if (!c.get("token").scopes.includes(scope)) return insufficientScope(c, scope);
    await next();
  };
