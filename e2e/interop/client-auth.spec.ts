/**
 * Every client authentication method the app offers, end to end against the dev IdP registered for it: the
 * sign-in's code exchange, a silent refresh and the revocation at sign-out each authenticate with the configured
 * method, and the IdP accepts every one. (client_secret_basic, with an id and secret that encoders disagree on,
 * is proven in idp-deviations.spec.ts.)
 */
import { exportJWK, generateKeyPair } from "jose";
import { expect, test } from "@playwright/test";
import { signIn, USERS } from "../support";
import { INTEROP, signOut, startStack, untilExpired, type Client } from "./stack";

test.describe.configure({ mode: "serial" });

async function privateKeyJwt(): Promise<Client> {
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: "interop-key-1", alg: "ES256" };
  return { clientId: "interop-bff.jwt", clientSecret: "", method: "private_key_jwt", privateKey: JSON.stringify(jwk) };
}

const clients: Array<[string, () => Promise<Client>]> = [
  ["client_secret_post", async () => ({ clientId: "interop-bff.post", clientSecret: "interop+post/secret=with:odd%chars", method: "client_secret_post" })],
  ["private_key_jwt", privateKeyJwt],
];

for (const [method, client] of clients) {
  test(`${method}: sign-in, silent refresh and revocation at sign-out, each authenticated by ${method}`, async ({ page }) => {
    const stack = await startStack(method, await client());
    try {
      await signIn(page, USERS.alice, INTEROP);
      await untilExpired(page);
      await page.goto(`${INTEROP.web}/dashboard`);
      await expect(page.getByRole("heading", { name: `Hello, ${USERS.alice.name}` })).toBeVisible();
      await signOut(page);

      const { seen } = stack.double;
      expect(seen.codeExchanges).toEqual([200]);
      expect(seen.refreshes).toEqual([200]);
      expect(seen.revocations).toEqual([200]);
      expect(seen.clientAuthentication).toEqual([method, method, method]);
      expect(stack.log("web")).not.toMatch(/could not revoke|sign-in failed/);
    } finally {
      await stack.stop();
    }
  });
}
