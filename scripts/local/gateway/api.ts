import type { SubscriptionKeyNames } from './policies/element';

/** The API as infra/modules/apim-api.bicep publishes it, for the local gateway. */

/** The API's path in API Management (`service/apis` `path`): operations live under /api/. */
export const API_PATH = 'api';

/** The backend ids the local gateway knows, as `service/backends` defines them. */
export const FUNCTION_APP_BACKEND_ID = 'function-app';

/**
 * The API's `subscriptionKeyParameterNames`, set explicitly in Bicep because API Management
 * ignores OpenAPI `securitySchemes` on import (api-management-api-import-restrictions.md). These
 * are also API Management's defaults; test/apim holds them equal to the compiled template.
 */
export const SUBSCRIPTION_KEY_PARAMETER_NAMES: SubscriptionKeyNames = {
  header: 'Ocp-Apim-Subscription-Key',
  query: 'subscription-key',
};

/**
 * API Management's health endpoint on every gateway (no subscription key, empty 200); `npm start`
 * waits on it.
 */
export const STATUS_PATH = '/status-0123456789abcdef';
