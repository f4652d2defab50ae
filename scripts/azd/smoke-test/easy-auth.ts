/**
 * Tells apart, in an answer to API Management's own (keyed) call, a refusal by App Service
 * Authentication (Easy Auth) from one by the function code. The function code refuses with
 * `application/problem+json` and a reason `code` (docs/responses.md); Easy Auth answers before
 * the code runs, with its own body (a 403 page, or an empty 401 with `WWW-Authenticate`).
 *
 * Why it matters: API Management's token is valid (Entra issued it, or API Management would
 * answer 500), so Easy Auth refusing it means its authorization policy refuses API Management
 * itself. A public report (pnp/Microsoft365-Analytics-Insights pull request #264) says an
 * `allowedApplications` left out of `authsettingsV2` can be stored as an empty list, which
 * refuses every token; the documented meaning of the list is "client applications allowed to
 * call" (learn.microsoft.com/azure/app-service/configure-authentication-provider-aad, "Use a
 * built-in authorization policy"), and infra/modules/function-app.bicep sets `allowedPrincipals`
 * only.
 */
import { answeredByFunctionCode, type Exchange } from './exchange';

/** The authsettingsV2 path that lists the client applications Easy Auth lets in. */
export const ALLOWED_APPLICATIONS_PATH =
  'identityProviders.azureActiveDirectory.validation.defaultAuthorizationPolicy.allowedApplications';

/**
 * When `exchange` is a 401 or 403 that the function code did not write, a short description of
 * it (the status, and Easy Auth's challenge if any); undefined otherwise.
 */
export function easyAuthRefusal(exchange: Exchange): string | undefined {
  if (exchange.error !== undefined || ![401, 403].includes(exchange.status)) return undefined;
  if (answeredByFunctionCode(exchange)) return undefined;
  const challenge = exchange.headers.get('www-authenticate');
  return (
    `${exchange.status} from App Service Authentication, not from the function code` +
    (challenge ? ` (WWW-Authenticate: ${challenge})` : '')
  );
}

/** The NOTE line that says what to set when Easy Auth refused API Management's own call. */
export function easyAuthAdvice(apimPrincipalId: string): string {
  return (
    "App Service Authentication refused API Management's own call before the function code " +
    "ran (a 401 or 403 without the code's problem+json), although Entra issued the token. An " +
    'absent allowedApplications can be stored as an empty list that refuses every token ' +
    '(pnp/Microsoft365-Analytics-Insights pull request #264): look at `az webapp auth show`, and ' +
    `set ${ALLOWED_APPLICATIONS_PATH} in infra/modules/function-app.bicep to the client id of ` +
    `API Management's managed identity (\`az ad sp show --id ${apimPrincipalId} --query appId\`), ` +
    'or remove the empty list; then run `azd provision` again. With NETWORK_ISOLATION=true a ' +
    "403 can also be the Function App's access restrictions: check that API Management's " +
    'subnet is admitted.'
  );
}
