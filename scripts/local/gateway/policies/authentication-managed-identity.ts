import { PolicyFailure } from '../failure';
import { internalErrorResponse } from '../messages';
import { policyElement } from './element';

/**
 * `authentication-managed-identity`
 * (learn.microsoft.com/azure/api-management/authentication-managed-identity-policy): inbound
 * only; a token for `resource` from the service's system-assigned identity goes out as
 * `Authorization: Bearer`. A token that cannot be had answers 500 (Entra's AADSTS500011 for a
 * wrong resource), unless `ignore-error="true"`.
 */

export interface ManagedIdentityConfig {
  readonly resource: string;
  readonly ignoreError: boolean;
}

/** The Entra error code in a credential's error message, if any (AADSTS500011 and friends). */
function entraErrorCode(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : '';
  return /AADSTS\d+/.exec(message)?.[0];
}

export default policyElement<ManagedIdentityConfig>({
  name: 'authentication-managed-identity',
  sections: ['inbound'],
  attributes: ['resource', 'ignore-error'],
  parse(element, attributes, { reader }) {
    const resource = reader.required(element, attributes, 'resource').trim();
    const ignore = attributes.get('ignore-error') ?? 'false';
    if (ignore !== 'true' && ignore !== 'false') {
      reader.fail(
        'invalid_value',
        element,
        `ignore-error must be "true" or "false", got "${ignore}".`,
      );
    }
    reader.noChildren(element);
    return { resource, ignoreError: ignore === 'true' };
  },
  async execute({ resource, ignoreError }, { state, services }) {
    let token: string | undefined;
    let cause: unknown;
    try {
      if (!services.credential) throw new Error('No credential configured.');
      token = (await services.credential.getToken(`${resource}/.default`))?.token;
    } catch (error: unknown) {
      cause = error;
    }
    if (token) {
      state.request.headers.set('Authorization', [`Bearer ${token}`]);
      return;
    }
    const code = entraErrorCode(cause);
    services.log(
      `authentication-managed-identity: no token for resource ${resource}` +
        (code ? ` (${code})` : '') +
        (ignoreError ? '; ignore-error="true", continuing without one' : ''),
    );
    if (ignoreError) return;
    throw new PolicyFailure(
      'authentication-managed-identity',
      'TokenAcquisitionFailed',
      internalErrorResponse(),
      { cause },
    );
  },
});
