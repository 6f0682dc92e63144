/**
 * What this app requires of every JWT its IdP signs (ID tokens, logout tokens), and how far it trusts the IdP's
 * clock. Pure.
 */

/** Asymmetric algorithms only: an HMAC key would be the client secret, and `none` is no signature. */
export const SIGNING_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"];

/** Seconds of leeway between the IdP's clock and ours, wherever one of the IdP's times is compared with ours. */
export const CLOCK_TOLERANCE = 5;
