import { redirect } from "next/navigation";
import { fetchApiIdentity } from "@/lib/api/identity";
import { getPageSession } from "@/lib/server/session-reader";
import { SignOutButton } from "../sign-out-button";
import { Notes } from "./notes";
import { SessionTiming } from "./session-timing";

export default async function Dashboard() {
  const session = await getPageSession("/dashboard");
  // The middleware already sent signed-out visitors to sign-in; this covers a cookie that expired in between.
  if (!session) redirect("/auth/login?returnTo=/dashboard");
  // Rendered on the server with the token the middleware just checked (and refreshed, if it was due).
  const identity = await fetchApiIdentity(session.accessToken);

  return (
    <section className="space-y-8">
      <div className="flex items-start justify-between gap-4">
        <div>
          <h1 className="text-3xl font-bold tracking-tight">Hello, {session.name ?? "there"}</h1>
          <p className="mt-1 text-slate-600" data-testid="signed-in-as">
            Signed in as {session.email ?? session.sub}
          </p>
        </div>
        <SignOutButton />
      </div>
      <SessionTiming accessTokenExpiresAt={session.accessTokenExpiresAt * 1000} sessionExpiresAt={session.expiresAt * 1000} />
      <p className="text-sm text-slate-600" data-testid="api-identity" data-token-exp={identity?.exp ?? ""}>
        {identity
          ? `The notes API accepts your access token (scopes: ${identity.scopes.join(", ")}).`
          : "The notes API could not confirm your access token right now."}
      </p>
      <Notes />
    </section>
  );
}
