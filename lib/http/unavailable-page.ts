/**
 * The page a navigation gets when its access token has expired and the IdP cannot be reached to renew
 * it. The session is kept: the page asks the user to try again, and it works once the IdP is back; or the user
 * signs out here (sign-out works without the IdP) and signs in again later. Never a dead end: past
 * `UNREFRESHABLE_LIMIT` the session ends by itself. Static text only, so it is safe to serve from the middleware
 * without React. Its style carries the response's CSP nonce: the policy allows no other inline style.
 */

const page = (nonce: string) => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign-in service unavailable - Tessera</title>
<style nonce="${nonce}">body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1.5rem;color:#0f172a}a{color:#4f46e5}form{display:inline}button{font:inherit;color:#4f46e5;background:none;border:0;padding:0;text-decoration:underline;cursor:pointer}</style>
</head>
<body>
<h1>Cannot reach the sign-in service</h1>
<p>Your session is still here, but it needs the sign-in service to continue, and that service is not answering right now.</p>
<div><a href="">Try again</a> in a moment, or <form method="post" action="/auth/logout"><button type="submit">sign out</button></form> and sign in again later.</div>
</body>
</html>`;

export function unavailablePage(nonce: string, retryAfterSeconds: number): Response {
  return new Response(page(nonce), {
    status: 503,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "retry-after": String(retryAfterSeconds) },
  });
}
