/**
 * Who a Microsoft Graph access token speaks for, read from its claims only to word an error
 * message (never to decide access; the token is not verified here, and is never logged).
 *
 * Microsoft identity platform access tokens carry `scp` when an application acts for a signed-in
 * user (delegated) and `roles` without `scp` when it acts as itself (app-only, as a pipeline's
 * service principal does); `idtyp`, when present, says `user` or `app`
 * (learn.microsoft.com/entra/identity-platform/access-token-claims-reference).
 */
export type CallerKind = 'user' | 'application' | 'unknown';

export function payloadOf(token: string): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[1] === undefined || !/^[A-Za-z0-9_-]+$/.test(parts[1])) {
    return undefined;
  }
  try {
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as unknown;
    return payload !== null && typeof payload === 'object' && !Array.isArray(payload)
      ? (payload as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The claims a preflight check reads: `roles` (application permissions), `wids` (Entra roles). */
export interface CallerClaims {
  readonly kind: CallerKind;
  readonly roles: readonly string[];
  readonly wids: readonly string[];
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

export function callerClaimsOfToken(token: string): CallerClaims {
  const payload = payloadOf(token);
  return {
    kind: callerKindOfToken(token),
    roles: strings(payload?.roles),
    wids: strings(payload?.wids),
  };
}

export function callerKindOfToken(token: string): CallerKind {
  const payload = payloadOf(token);
  if (payload === undefined) return 'unknown';
  if (payload.idtyp === 'app') return 'application';
  if (payload.idtyp === 'user') return 'user';
  if (typeof payload.scp === 'string' && payload.scp !== '') return 'user';
  if (Array.isArray(payload.roles)) return 'application';
  return 'unknown';
}
