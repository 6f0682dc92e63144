import type { Account, AccountClaims } from "oidc-provider";
import { findUserBySub, USERS, type User } from "./users";

/**
 * Maps seeded users onto oidc-provider accounts. oidc-provider filters these claims by the granted scopes
 * (`profile` releases `name`, `email` releases `email` and `email_verified`), so listing them all here is safe.
 */
export const CLAIMS_BY_SCOPE = {
  openid: ["sub"],
  profile: ["name"],
  email: ["email", "email_verified"],
} as const;

export function userClaims(user: User): AccountClaims {
  return { sub: user.sub, name: user.name, email: user.email, email_verified: user.emailVerified };
}

export function createFindAccount(users: readonly User[] = USERS) {
  return (_ctx: unknown, sub: string): Account | undefined => {
    const user = findUserBySub(sub, users);
    if (!user) return undefined;
    return { accountId: user.sub, claims: () => userClaims(user) };
  };
}
