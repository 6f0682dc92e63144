import { expect, it } from "vitest";
import { withAppEnv } from "@/lib/testing/app-env";
import { GET, POST } from "./route";

const APP = "https://app.example";

withAppEnv(APP);

it("answers an unknown data route with 404 JSON, and a forged request to one with 403 JSON", async () => {
  const found = GET(new Request(`${APP}/api/nope`, { headers: { "x-csrf": "1" } }));
  expect(found.status).toBe(404);
  expect(await found.json()).toMatchObject({ error: "not_found" });
  for (const forged of [GET(new Request(`${APP}/api/nope`)), POST(new Request(`${APP}/api/nope`, { method: "POST", headers: { "x-csrf": "1", origin: "https://evil.example" } }))]) {
    expect(forged.status).toBe(403);
    expect(forged.headers.get("content-type")).toContain("application/json");
  }
});
