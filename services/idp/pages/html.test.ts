import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { escapeHtml, htmlSecurityHeaders, renderPage } from "./html";

describe("escapeHtml", () => {
  it("neutralises every character that could end a text node or an attribute", () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&amp;</a>`)).toBe(
      "&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;",
    );
  });

  it("renders nullish values as empty text", () => {
    expect(escapeHtml(undefined)).toBe("");
    expect(escapeHtml(null)).toBe("");
  });
});

describe("renderPage and htmlSecurityHeaders", () => {
  it("escapes the title and names the page as the development IdP", () => {
    const html = renderPage({ title: "<b>t</b>", body: "<p>body</p>" });
    expect(html).toContain("<title>&lt;b&gt;t&lt;/b&gt;</title>");
    expect(html).toContain("<h1>Tessera development IdP</h1>");
    expect(html).toContain("Not for production use.");
    expect(html).not.toMatch(/<script|https?:\/\//);
  });

  it("allows exactly the page's own stylesheet and no other resource", () => {
    const html = renderPage({ title: "t", body: "" });
    const stylesheet = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    const hash = createHash("sha256").update(stylesheet).digest("base64");
    const csp = htmlSecurityHeaders([])["content-security-policy"]!;
    expect(csp.split("; ")).toEqual([
      "default-src 'none'",
      `style-src 'sha256-${hash}'`,
      "form-action 'self'",
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ]);
  });

  it("lets forms lead on to the listed origins", () => {
    const headers = htmlSecurityHeaders(["http://localhost:3000"]);
    expect(headers["content-security-policy"]).toContain("form-action 'self' http://localhost:3000");
    expect(headers).toMatchObject({ "x-frame-options": "DENY", "cache-control": "no-store" });
    // A browser would send `Origin: null` with the login form under `no-referrer`.
    expect(headers["referrer-policy"]).toBe("same-origin");
  });
});
