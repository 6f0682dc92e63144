import { verifyPassword } from "./passwords";

/**
 * The seeded end-users of the development IdP. Only salted scrypt hashes are stored here; the development
 * passwords are documented in DESIGN.md. `sub` is a fixed opaque id, so it stays stable across restarts and never
 * reveals the username.
 */
export interface User {
  sub: string;
  username: string;
  name: string;
  email: string;
  emailVerified: boolean;
  passwordHash: string;
}

export const USERS: readonly User[] = [
  {
    sub: "a37a3ec0-7e6a-4aae-98ae-36911e2d4b0d",
    username: "alice",
    name: "Alice Liddell",
    email: "alice@example.com",
    emailVerified: true,
    passwordHash: "scrypt$32768$8$1$lgfHhzblp9ruguZGY4HZ4g$IOzNNeFDLTAcBxKGCe8kG4zWiFj0rYVsE-l_0ZB6rDI",
  },
  {
    sub: "0264ccb1-8636-4a28-a344-6de6c73732ff",
    username: "bob",
    name: "Bob Builder",
    email: "bob@example.com",
    emailVerified: false,
    passwordHash: "scrypt$32768$8$1$Xp7ZR7wJDqnebMtIcra26g$HZiN3-Ff_dYIHnKvvJCRbh6CBIIT6Bev4LR-DI7Iess",
  },
];

// Verified against when the username is unknown, so that an unknown user costs the same scrypt work as a wrong
// password and response timing does not reveal which usernames exist. Its password is random and was discarded.
export const UNKNOWN_USER_HASH = "scrypt$32768$8$1$XKn1NyodtNksf2gwNoNV7g$bpP2GkEZ2TR5tsrThLFc2iLgsDUj2F4iZkJWpH5pE3k";

// Bounds the work an attacker can trigger per request; no legitimate password comes close.
const MAX_PASSWORD_LENGTH = 1024;

export function findUserBySub(sub: string, users: readonly User[] = USERS): User | undefined {
  return users.find((user) => user.sub === sub);
}

/** Returns the user when the credentials match, otherwise `undefined`, without saying which part was wrong. */
export async function authenticate(
  username: string,
  password: string,
  users: readonly User[] = USERS,
): Promise<User | undefined> {
  const wanted = username.trim().toLowerCase();
  const user = users.find((candidate) => candidate.username === wanted);
  const tooLong = password.length > MAX_PASSWORD_LENGTH;
  const ok = await verifyPassword(tooLong ? "" : password, user?.passwordHash ?? UNKNOWN_USER_HASH);
  return ok && user && !tooLong ? user : undefined;
}
