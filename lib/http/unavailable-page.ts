/**
 * The page a navigation gets, with 503 and `Retry-After`, when the session is there but cannot be used for a
 * moment. The session is kept: the page asks the user to try again, and that works once the service is back; or
 * the user signs out here (sign-out works without the IdP) and signs in again later. Never a dead end.
 * - `idp`: the access token has expired and the IdP cannot be reached to renew it (past `UNREFRESHABLE_LIMIT` the
 *   session ends by itself);
 * - `service`: what the instances share (the list of ended sessions, refresh coordination) cannot be reached.
 * Static text only, so it is safe to serve from the middleware without React. Its style carries the response's
 * CSP nonce: the policy allows no other inline style.
 */

export type Unavailable = "idp" | "service";

const TEXT: Record<Unavailable, { title: string; heading: string; body: string }> = {
  idp: {
    title: "Sign-in service unavailable",
    heading: "Cannot reach the sign-in service",
    body: "Your session is still here, but it needs the sign-in service to continue, and that service is not answering right now.",
  },
  service: {
    title: "Briefly unavailable",
    heading: "Tessera is briefly unavailable",
    body: "Your session is still here, but it cannot be checked right now.",
  },
};

const escapeAttribute = (value: string) => value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

const page = (nonce: string, { title, heading, body }: (typeof TEXT)[Unavailable], tryAgain: string) => `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} - Tessera</title>
<style nonce="${escapeAttribute(nonce)}">body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1.5rem;color:#0f172a}a{color:#4f46e5}form{display:inline}button{font:inherit;color:#4f46e5;background:none;border:0;padding:0;text-decoration:underline;cursor:pointer}</style>
</head>
<body>
<h1>${heading}</h1>
<p>${body}</p>
<div><a href="${escapeAttribute(tryAgain)}">Try again</a> in a moment, or <form method="post" action="/auth/logout"><button type="submit">sign out</button></form> and sign in again later.</div>
</body>
</html>`;

/** `tryAgain`: where the link goes, a same-origin path; by default the page asked for (an empty href). */
export function unavailablePage(nonce: string, retryAfterSeconds: number, { why = "idp", tryAgain = "" }: { why?: Unavailable; tryAgain?: string } = {}): Response {
  return new Response(page(nonce, TEXT[why], tryAgain), {
    status: 503,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "retry-after": String(retryAfterSeconds) },
  });
}
