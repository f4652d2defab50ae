import { PolicyFailure } from '../failure';
import { internalErrorResponse } from '../messages';
import { policyElement } from './element';

/**
 * `authentication-managed-identity`
 * (learn.microsoft.com/azure/api-management/authentication-managed-identity-policy): inbound
 * only; a token for `resource` from the service's system-assigned identity, or from the
 * user-assigned identity whose client id `client-id` names, goes out as `Authorization: Bearer`. A token that cannot be had answers 500 (Entra's AADSTS500011 for a
 * wrong resource), unless `ignore-error="true"`.
 */

export interface ManagedIdentityConfig {
  readonly resource: string;
  /** `client-id`: the user-assigned identity to use; undefined for the system-assigned one. */
  readonly clientId: string | undefined;
  readonly ignoreError: boolean;
}

/**
 * What the managed identity endpoint said, from @azure/identity's message (`... Message
 * <error>: ... Description: <description> - Correlation ID ...`): the AADSTS code (AADSTS500011
 * and friends) or the OAuth error, and the description, which names the cause (a wrong header).
 */
function entraErrorCode(error: unknown): string | undefined {
  const message = error instanceof Error ? error.message : '';
  const code = /AADSTS\d+/.exec(message)?.[0] ?? /Message ([a-z_]{1,64}):/.exec(message)?.[1];
  const description = /Description: (.{1,300}?)(?: - Correlation ID|$)/.exec(message)?.[1];
  if (!code) return undefined;
  return description ? `${code}: ${description.replace(/\p{Cc}/gu, '?')}` : code;
}

export default policyElement<ManagedIdentityConfig>({
  name: 'authentication-managed-identity',
  sections: ['inbound'],
  attributes: ['resource', 'client-id', 'ignore-error'],
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
    const clientId = attributes.get('client-id')?.trim();
    if (clientId === '') reader.fail('invalid_value', element, 'client-id must not be empty.');
    reader.noChildren(element);
    return { resource, clientId, ignoreError: ignore === 'true' };
  },
  async execute({ resource, clientId, ignoreError }, { state, services }) {
    let token: string | undefined;
    let cause: unknown;
    try {
      const credential =
        clientId === undefined ? services.credential : services.credentialFor?.(clientId);
      if (!credential) throw new Error('No credential configured.');
      token = (await credential.getToken(`${resource}/.default`))?.token;
    } catch (error: unknown) {
      cause = error;
    }
    if (token) {
      state.request.headers.set('Authorization', [`Bearer ${token}`]);
      return;
    }
    const code = entraErrorCode(cause);
    const noToken = `no token for resource ${resource}` + (code ? ` (${code})` : '');
    if (ignoreError) {
      services.log(
        `authentication-managed-identity: ${noToken}; ignore-error="true", continuing without one`,
      );
      return;
    }
    throw new PolicyFailure(
      'authentication-managed-identity',
      `TokenAcquisitionFailed, ${noToken}`,
      internalErrorResponse(),
      { cause },
    );
  },
});
