import { getAdmittedSession, SessionCheckUnavailableError } from "@/lib/server/session-reader";
import { canGoOn } from "@/lib/refresh/policy";
import { SignOutButton } from "./sign-out-button";

/**
 * A session that cannot go on (its token expired, nothing to renew it with) is offered sign-in, not a dead end.
 * This page is public: while the list of ended sessions cannot be read, it shows what a visitor sees.
 */
async function hasUsableSession(): Promise<boolean> {
  const session = await getAdmittedSession().catch((error: unknown) => {
    if (error instanceof SessionCheckUnavailableError) return null;
    throw error;
  });
  return session !== null && canGoOn(session, Date.now() / 1000);
}

export default async function Home() {
  const signedIn = await hasUsableSession();
  return (
    <section className="space-y-6">
      <h1 className="text-4xl font-bold tracking-tight">Your notes, behind a proper sign-in.</h1>
      <p className="max-w-xl text-lg text-slate-600">
        Tessera signs you in at a trusted identity provider and keeps every token on the server. Your browser only ever
        holds an encrypted, HttpOnly cookie.
      </p>
      {signedIn ? (
        <div className="flex items-center gap-4">
          <a href="/dashboard" className="inline-block rounded-lg bg-indigo-600 px-5 py-2.5 font-medium text-white hover:bg-indigo-500">
            Go to your dashboard
          </a>
          <SignOutButton />
        </div>
      ) : (
        <a
          href="/auth/login?returnTo=/dashboard"
          className="inline-block rounded-lg bg-indigo-600 px-5 py-2.5 font-medium text-white hover:bg-indigo-500"
        >
          Sign in
        </a>
      )}
    </section>
  );
}
