/**
 * The `big-claims` hook's state: extra bytes in every token issued to a subject, as an IdP that puts large group
 * lists or entitlements into its tokens does. The provider reads it through `ExtraClaims` when it issues a token.
 */
import type { ExtraClaims } from "../provider";

const PADDING_CLAIM = "test_padding";
/** Far beyond any cookie budget, and still a token oidc-provider signs in a moment. */
export const MAX_PADDING_BYTES = 64 * 1024;

export interface ClaimPadding extends ExtraClaims {
  set(sub: string, bytes: number): void;
}

export function createClaimPadding(): ClaimPadding {
  const bytesBySub = new Map<string, number>();
  return {
    names: [PADDING_CLAIM],
    for(sub) {
      const bytes = bytesBySub.get(sub);
      return bytes ? { [PADDING_CLAIM]: "x".repeat(bytes) } : undefined;
    },
    set(sub, bytes) {
      if (bytes === 0) bytesBySub.delete(sub);
      else bytesBySub.set(sub, bytes);
    },
  };
}
