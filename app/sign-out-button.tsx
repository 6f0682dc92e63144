/** Sign-out: a same-origin form POST (see `app/auth/logout/route.ts`), never a link another site could send one to. */
export function SignOutButton() {
  return (
    <form method="post" action="/auth/logout">
      <button type="submit" className="rounded-lg border border-slate-300 bg-white px-4 py-2 font-medium hover:bg-slate-100">
        Sign out
      </button>
    </form>
  );
}
