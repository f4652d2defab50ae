/** The caller of a trigger, taken from a validated access token and nothing else. */
export interface Caller {
  /** `oid`: the caller's object id (for a managed identity, its principal id). */
  readonly objectId: string;
  /** `azp` (v2) or `appid` (v1): the caller's client id, when the token carries one. */
  readonly clientId: string | undefined;
  /** `tid`: the tenant that issued the token. */
  readonly tenantId: string;
  /** `iss`: the issuer, one of the configured issuers. */
  readonly issuer: string;
  /** `ver`: the Entra token version. */
  readonly tokenVersion: '1.0' | '2.0';
  /** `roles`: the app roles assigned to the caller. */
  readonly roles: readonly string[];
  /** `exp` as a date. */
  readonly expiresAt: Date;
}
