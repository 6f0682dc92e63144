import path from "node:path";
import { createIdp } from "./app";
import { ConfigError, loadConfig, type IdpConfig } from "./config";
import { loadOrCreateKeys } from "./keys";
import { listen } from "./listen";

async function main(): Promise<void> {
  let config: IdpConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }

  const keys = await loadOrCreateKeys(path.join(config.dataDir, "idp"));
  const { handler } = createIdp({ config, keys });
  const listener = await listen(handler, { port: config.port, host: config.host });

  console.info(
    `[idp] Tessera DEVELOPMENT/TEST identity provider - NOT FOR PRODUCTION - issuer ${config.issuer} ` +
      `(listening on ${listener.addresses.join(", ")})`,
  );
  if (config.testHooks) {
    console.warn(
      "[idp] TEST HOOKS ENABLED (IDP_TEST_HOOKS=1): /__test/ hands out issued tokens, revokes grants, ends " +
        "sessions and simulates outages, for requests to a loopback host that carry TEST_HOOKS_TOKEN. Tests only.",
    );
  }

  const shutdown = () => {
    listener.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
}

main().catch((error: unknown) => {
  console.error(`[idp] failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
