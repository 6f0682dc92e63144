#!/usr/bin/env node
// Finds a Chromium for the end-to-end suite: Playwright's own if installed, else the system one.
// On Debian as root it installs the `chromium` package; anywhere else it says what to do.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { chromium } from "@playwright/test";

const SYSTEM_CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";

function found(where) {
  console.log(`[e2e] using ${where}`);
  process.exit(0);
}

if (existsSync(chromium.executablePath())) found(`Playwright's Chromium at ${chromium.executablePath()}`);
if (existsSync(SYSTEM_CHROMIUM)) found(`the system Chromium at ${SYSTEM_CHROMIUM}`);

const isRoot = process.getuid?.() === 0;
if (isRoot && existsSync("/usr/bin/apt-get")) {
  console.log("[e2e] no Chromium found: installing Debian's chromium package (apt-get) ...");
  const apt = (...args) => execFileSync("apt-get", args, { stdio: "inherit", env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  apt("update");
  apt("install", "-y", "--no-install-recommends", "chromium");
  if (existsSync(SYSTEM_CHROMIUM)) found(`the system Chromium at ${SYSTEM_CHROMIUM}`);
}

console.error(`[e2e] No Chromium found for the end-to-end tests. Install one of:
  - Playwright's own:   npx playwright install chromium
  - Debian/Ubuntu:      sudo apt-get install chromium   (then it is found at /usr/bin/chromium)
  - elsewhere:          set CHROMIUM_PATH to a Chromium or Chrome executable`);
process.exit(1);
