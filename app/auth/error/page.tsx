/**
 * Where failed sign-ins end. The `error` query value only selects one of a few fixed messages: it is
 * never shown, so nothing an IdP or an attacker puts in the URL reaches the page. A Map, not an object
 * literal: `?error=__proto__` or `?error=toString` must find nothing, not Object.prototype's members.
 */
const MESSAGES = new Map([
  ["Configuration", "The sign-in service could not be reached or is not set up correctly. Please try again in a moment."],
  ["AccessDenied", "Sign-in was cancelled or refused."],
  [
    "SessionTooLarge",
    "Your session has ended: the sign-in service now sends more about your account (groups or roles, say) than this app can keep in a session. Signing in again will not help until an administrator trims what the service puts in its tokens.",
  ],
]);
const FALLBACK = "Sign-in could not be completed. Please try again.";

export default async function AuthError({ searchParams }: { searchParams: Promise<{ error?: string | string[] }> }) {
  const { error } = await searchParams;
  const message = (typeof error === "string" && MESSAGES.get(error)) || FALLBACK;
  return (
    <section className="space-y-4">
      <h1 className="text-3xl font-bold tracking-tight">Sign-in problem</h1>
      <p role="alert" className="text-slate-700">
        {message}
      </p>
      <a href="/auth/login?returnTo=/dashboard" className="inline-block rounded-lg bg-indigo-600 px-5 py-2.5 font-medium text-white hover:bg-indigo-500">
        Try again
      </a>
    </section>
  );
}
