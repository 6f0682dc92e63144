import { afterAll, beforeAll } from "vitest";

/** The app at `appUrl`, for a test file whose code reads the configuration (`getConfig`) on first use. */
export function withAppEnv(appUrl: string): void {
  beforeAll(() => {
    process.env.AUTH_URL = appUrl;
    process.env.AUTH_SECRET = "unit-test-secret-0123456789abcdef-0123456789";
  });
  afterAll(() => {
    delete process.env.AUTH_URL;
    delete process.env.AUTH_SECRET;
  });
}
