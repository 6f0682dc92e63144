/** Why a data request said the session is over (its 401's `reason`), where the user can do something about it. */
export async function endedReason(response: Response): Promise<string | undefined> {
  const body = (await response.clone().json().catch(() => null)) as { reason?: unknown } | null;
  return typeof body?.reason === "string" ? body.reason : undefined;
}

const EXPLANATIONS: Record<string, string> = {
  session_too_large: "The sign-in service now sends more about your account (groups or roles, say) than this app can keep in a session.",
};

/** What the dashboard shows once a data request says the session is over: one way back, no retry loop. */
export function SessionEnded({ className, reason }: { className: string; reason?: string }) {
  const explanation = reason === undefined ? undefined : EXPLANATIONS[reason];
  return (
    <p role="alert" className={className}>
      Your session has ended.{explanation ? ` ${explanation}` : ""}{" "}
      <a className="font-medium underline" href="/auth/login?returnTo=/dashboard">
        Sign in again
      </a>
    </p>
  );
}
