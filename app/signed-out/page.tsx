const INCOMPLETE_STEPS: Record<string, string> = {
  idp: "The sign-in service could not be reached, so your session there may still be active.",
};

export default async function SignedOut({ searchParams }: { searchParams: Promise<{ incomplete?: string | string[] }> }) {
  const { incomplete } = await searchParams;
  const notes = [incomplete ?? []].flat().flatMap((step) => (INCOMPLETE_STEPS[step] ? [INCOMPLETE_STEPS[step]] : []));
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
