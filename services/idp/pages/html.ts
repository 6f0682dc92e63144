import { createHash } from "node:crypto";

/**
 * Shared building blocks of the IdP's HTML pages: escaping, one stylesheet, the page frame and the security
 * headers. Pages carry no external assets and, with one hash-pinned exception, no script, so a strict
 * Content-Security-Policy fits.
 */

export function escapeHtml(value: unknown): string {
  return String(value ?? "")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

const STYLESHEET = `
:root{color-scheme:light dark;--bg:#f4f5f7;--card:#fff;--text:#1f2328;--muted:#59636e;--accent:#3b4fd8;--accent-hover:#2f3fb0;--border:#d0d7de;--danger:#b42318;--danger-bg:#fef3f2;--notice-bg:#fff8e1;--notice-text:#6b4e00}
@media (prefers-color-scheme:dark){:root{--bg:#0f1115;--card:#181b21;--text:#e6e8eb;--muted:#9aa4af;--accent:#8b9bff;--accent-hover:#a9b5ff;--border:#30363d;--danger:#ff8a80;--danger-bg:#2a1414;--notice-bg:#2b2410;--notice-text:#f2d58a}}
*{box-sizing:border-box}
body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;padding:1.5rem;background:var(--bg);color:var(--text);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{width:100%;max-width:24rem;background:var(--card);border:1px solid var(--border);border-radius:12px;padding:2rem;box-shadow:0 1px 3px rgba(0,0,0,.08)}
h1{margin:0 0 .25rem;font-size:1.4rem}
h2{margin:0 0 1.25rem;font-size:1.05rem;font-weight:500;color:var(--muted)}
p{margin:0 0 1rem}
.notice{margin:0 0 1.5rem;padding:.5rem .75rem;border-radius:8px;background:var(--notice-bg);color:var(--notice-text);font-size:.85rem}
.error{margin:0 0 1rem;padding:.6rem .75rem;border-radius:8px;border:1px solid var(--danger);background:var(--danger-bg);color:var(--danger)}
label{display:block;margin:0 0 .3rem;font-weight:600}
input{display:block;width:100%;margin:0 0 1rem;padding:.6rem .7rem;font:inherit;color:inherit;background:transparent;border:1px solid var(--border);border-radius:8px}
input:focus-visible,button:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
button{display:block;width:100%;margin:.5rem 0 0;padding:.65rem 1rem;font:inherit;font-weight:600;border-radius:8px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer}
button:hover{background:var(--accent-hover);border-color:var(--accent-hover)}
button.secondary{background:transparent;color:var(--accent)}
@media (prefers-color-scheme:dark){button{color:#0f1115}}
`.trim();

const STYLE_HASH = `'sha256-${createHash("sha256").update(STYLESHEET).digest("base64")}'`;

export interface Page {
  title: string;
  /** Trusted markup: every dynamic value in it must already have gone through `escapeHtml`. */
  body: string;
}

export function renderPage({ title, body }: Page): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)}</title>
<style>${STYLESHEET}</style>
</head>
<body>
<main>
<h1>Tessera development IdP</h1>
<p class="notice">Development and test identity provider. Not for production use.</p>
${body}
</main>
</body>
</html>`;
}

/** The CSP source expression allowing exactly this inline script. */
export function scriptHash(script: string): string {
  return `'sha256-${createHash("sha256").update(script).digest("base64")}'`;
}

/**
 * Headers for every HTML page of the IdP. `formActionOrigins` lists where forms may be submitted, including the
 * targets of the redirects that follow a submission (browsers apply `form-action` to those too): after a sign-in
 * or sign-out the browser is sent on to the web app. `scriptHashes` allow specific inline scripts; pages have none
 * by default.
 */
export function htmlSecurityHeaders(
  formActionOrigins: readonly string[],
  { scriptHashes = [] }: { scriptHashes?: readonly string[] } = {},
): Record<string, string> {
  const formAction = ["'self'", ...formActionOrigins].join(" ");
  return {
    "content-type": "text/html; charset=utf-8",
    "content-security-policy": [
      "default-src 'none'",
      ...(scriptHashes.length > 0 ? [`script-src ${scriptHashes.join(" ")}`] : []),
      `style-src ${STYLE_HASH}`,
      `form-action ${formAction}`,
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join("; "),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    // Not `no-referrer`: under that policy browsers send `Origin: null` with the page's own form posts, which
    // the cross-site check on the login form would then refuse.
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
  };
}
