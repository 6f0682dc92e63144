import { describe, expect, it } from "vitest";
import { INVALID_CREDENTIALS_MESSAGE, renderLoginPage } from "./login-page";

describe("renderLoginPage", () => {
  it("labels both inputs and posts to the given action", () => {
    const html = renderLoginPage({ action: "/interaction/abc/login", clientName: "Tessera" });
    expect(html).toContain('<form method="post" action="/interaction/abc/login"');
    expect(html).toMatch(/<label for="username">Username<\/label>\s*<input id="username" name="username"[^>]*autocomplete="username"/);
    expect(html).toMatch(/<label for="password">Password<\/label>\s*<input id="password" name="password" type="password"[^>]*autocomplete="current-password"/);
    expect(html).toContain('<button type="submit">Sign in</button>');
    expect(html).toContain("Sign in to continue to Tessera");
    expect(html).not.toContain('role="alert"');
  });

  it("announces an error, keeps the username and moves focus to the password", () => {
    const html = renderLoginPage({
      action: "/interaction/abc/login",
      clientName: "Tessera",
      username: "alice",
      error: INVALID_CREDENTIALS_MESSAGE,
    });
    expect(html).toContain(`<p class="error" id="login-error" role="alert">${INVALID_CREDENTIALS_MESSAGE}</p>`);
    expect(html).toMatch(/<input id="username"[^>]*value="alice" aria-describedby="login-error">/);
    expect(html).toMatch(/<input id="password"[^>]*aria-describedby="login-error" autofocus>/);
  });

  it("escapes every dynamic value", () => {
    const html = renderLoginPage({
      action: '/x"><script>',
      clientName: "<img src=x onerror=alert(1)>",
      username: '"><script>alert(1)</script>',
      error: "<b>bad</b>",
    });
    expect(html).not.toMatch(/<script|<img|<b>/);
    expect(html).toContain('value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
  });
});
