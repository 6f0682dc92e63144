/**
 * The page a navigation gets when its access token has expired and the IdP cannot be reached to renew
 * it. The session is kept: the page asks the user to try again, and it works once the IdP is back.
 * Static text only, so it is safe to serve from the middleware without React. Its style carries the
 * response's CSP nonce: the policy allows no other inline style.
 */

const page = (nonce: string) => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in service unavailable - Tessera</title>
<style nonce="${nonce}">body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1.5rem;color:#0f172a}a{color:#4f46e5}</style>
</head>
<body>
<h1>Cannot reach the sign-in service</h1>
<p>Your session is still here, but it needs the sign-in service to continue, and that service is not answering right now.</p>
<p><a href="">Try again</a> in a moment.</p>
</body>
</html>`;

export function unavailablePage(nonce: string): Response {
  return new Response(page(nonce), {
    status: 503,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "retry-after": "5" },
  });
}
