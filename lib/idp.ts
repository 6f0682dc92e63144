/**
 * This app's view of its IdP: the discovery document, shared by every caller in the process. Edge-safe.
 */
import type { AuthorizationServer } from "oauth4webapi";
import { getConfig } from "./config";
import { createDiscovery } from "./oidc-discovery";

let discover: (() => Promise<AuthorizationServer>) | undefined;

export function idpMetadata(): Promise<AuthorizationServer> {
  const { issuer, idpTimeoutMs } = getConfig();
  discover ??= createDiscovery({ issuer, timeoutMs: idpTimeoutMs });
  return discover();
}
