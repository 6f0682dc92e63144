/** What the dashboard shows once a data request says the session is over: one way back, no retry loop. */
export function SessionEnded({ className }: { className: string }) {
  return (
    <p role="alert" className={className}>
      Your session has ended.{" "}
      <a className="font-medium underline" href="/auth/login?returnTo=/dashboard">
        Sign in again
      </a>
    </p>
  );
}
