import { expect, test } from "@playwright/test";
import { addNote, BFF_HEADERS, signIn, unique, USERS } from "./support";

test("a user adds and deletes a note through the BFF and the API", async ({ page }) => {
  await signIn(page, USERS.alice);
  const text = unique("Buy more tea");

  await addNote(page, text);
  const notes = page.getByRole("list", { name: "Notes" });

  // The note is really stored by the API: it is still there after a reload.
  await page.reload();
  await expect(notes.getByText(text)).toBeVisible();

  await page.getByRole("button", { name: `Delete note: ${text}` }).click();
  await expect(page.getByText(text)).toHaveCount(0);
  await page.reload();
  await expect(page.getByRole("heading", { name: "Your notes" })).toBeVisible();
  await expect(page.getByText(text)).toHaveCount(0);
});

test("Bob never sees, nor deletes, Alice's notes", async ({ browser }) => {
  const aliceContext = await browser.newContext();
  const alice = await aliceContext.newPage();
  await signIn(alice, USERS.alice);
  const secret = unique("Alice's secret");
  const created = await alice.request.post("/api/notes", { headers: BFF_HEADERS, data: { text: secret } });
  expect(created.status()).toBe(201);
  const { note } = (await created.json()) as { note: { id: string } };

  const bobContext = await browser.newContext();
  const bob = await bobContext.newPage();
  await signIn(bob, USERS.bob);
  await expect(bob.getByRole("heading", { name: "Your notes" })).toBeVisible();
  await expect(bob.getByText(secret)).toHaveCount(0);

  const listed = await bob.request.get("/api/notes", { headers: BFF_HEADERS });
  expect(listed.status()).toBe(200);
  expect(JSON.stringify(await listed.json())).not.toContain(secret);

  const deleted = await bob.request.delete(`/api/notes/${note.id}`, { headers: BFF_HEADERS });
  expect(deleted.status()).toBe(404);

  const stillThere = await alice.request.get("/api/notes", { headers: BFF_HEADERS });
  expect(JSON.stringify(await stillThere.json())).toContain(secret);

  await aliceContext.close();
  await bobContext.close();
});

test("the notes routes answer 401 JSON, not a redirect, without a session", async ({ page }) => {
  for (const [method, path] of [["GET", "/api/notes"], ["POST", "/api/notes"], ["DELETE", "/api/notes/abc"]] as const) {
    const response = await page.request.fetch(path, { method, headers: BFF_HEADERS, data: method === "POST" ? { text: "x" } : undefined, maxRedirects: 0 });
    expect(response.status(), `${method} ${path}`).toBe(401);
    expect(await response.json()).toMatchObject({ error: "unauthenticated" });
  }
});
