import { signedOutNotes } from "@/lib/server/sign-out/notice";

/** `state` comes back from the IdP (or straight from sign-out): only known values map to fixed sentences. */
export default async function SignedOut({ searchParams }: { searchParams: Promise<{ state?: string | string[] }> }) {
  const notes = signedOutNotes((await searchParams).state);
  return (
    <section className="space-y-4">
      <h1 className="text-3xl font-bold tracking-tight">You are signed out.</h1>
      {notes.length > 0 && (
        <div role="alert" className="rounded-lg border border-amber-300 bg-amber-50 p-4 text-amber-900">
          <p>You are signed out of this app, but not everything could be completed:</p>
          <ul className="mt-2 list-disc pl-5">
            {notes.map((note) => (
              <li key={note}>{note}</li>
            ))}
          </ul>
        </div>
      )}
      <a href="/auth/login?returnTo=/dashboard" className="inline-block rounded-lg bg-indigo-600 px-5 py-2.5 font-medium text-white hover:bg-indigo-500">
        Sign in again
      </a>
    </section>
  );
}
