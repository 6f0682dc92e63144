/**
 * What the signed-out page tells the user about a sign-out that could not be completed everywhere.
 *
 * Sign-out names the parts it could not complete in one short code. The IdP's RP-initiated logout returns
 * to `/signed-out` exactly as registered, so the code travels as the end-session `state`, which the IdP
 * hands back as `?state=`; a sign-out that cannot go through the IdP sends it the same way. The page maps
 * known codes to fixed sentences and ignores anything else: nothing from the URL is ever shown. Pure.
 */

export type IncompleteStep = "idp" | "api" | "app";

const NOTES: Record<IncompleteStep, string> = {
  idp: "The sign-in service could not be reached, so your session there may still be active.",
  api: "The notes service could not be reached to cancel this session's access; that access expires on its own within minutes.",
  app: "This app could not record the end of your session on its servers.",
};

const STEPS = Object.keys(NOTES) as IncompleteStep[];
const SEPARATOR = ".";

/** Sent when everything was completed: some IdPs send the browser back from their end-session only with a `state`. */
export const SIGNED_OUT_COMPLETE = "complete";

/** The code for `incomplete`, in a fixed order; `SIGNED_OUT_COMPLETE` when everything was completed. */
export function signedOutState(incomplete: Iterable<IncompleteStep>): string {
  const steps = new Set(incomplete);
  return STEPS.filter((step) => steps.has(step)).join(SEPARATOR) || SIGNED_OUT_COMPLETE;
}

/** The sentences for the known steps a `state` names, each once. */
export function signedOutNotes(state: string | string[] | undefined): string[] {
  const named = new Set([state ?? []].flat().flatMap((value) => value.split(SEPARATOR)));
  return STEPS.filter((step) => named.has(step)).map((step) => NOTES[step]);
}
