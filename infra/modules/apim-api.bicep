metadata description = 'What API Management publishes: the Function App backend, the API imported from apim/openapi.yaml with its policy, the named values the policies use, and a product with one active subscription.'

@description('Required. Name of the API Management service (created by apim.bicep).')
param apiManagementName string

@description('Required. Default host name of the Function App (no scheme).')
param functionAppHostName string

@description('Required. Client id (appId) of the Function App\'s app registration: the resource API Management asks a token for. Not a secret.')
@minLength(36)
@maxLength(36)
param apiAppClientId string

@description('Optional. Client id of API Management\'s user-assigned identity. Empty (default): the system-assigned identity, and the policy names no client-id.')
param apimIdentityClientId string = ''

// The functions are served under /api on the Function App (host.json default route prefix).
var backendUrl = 'https://${functionAppHostName}/api'

resource apiManagement 'Microsoft.ApiManagement/service@2024-05-01' existing = {
  name: apiManagementName
}

// Every {{name}} in apim/policies/*.xml is defined here (test/infra checks it).
resource apiAppClientIdNamedValue 'Microsoft.ApiManagement/service/namedValues@2024-05-01' = {
  parent: apiManagement
  name: 'api-app-client-id'
  properties: {
    displayName: 'api-app-client-id'
    value: apiAppClientId
    secret: false
  }
}

// The identity the policy asks a token for, when it is user-assigned
// (apim/policies/user-assigned-identity/api.xml: client-id="{{apim-identity-client-id}}").
resource apimIdentityClientIdNamedValue 'Microsoft.ApiManagement/service/namedValues@2024-05-01' = if (!empty(apimIdentityClientId)) {
  parent: apiManagement
  name: 'apim-identity-client-id'
  properties: {
    displayName: 'apim-identity-client-id'
    value: apimIdentityClientId
    secret: false
  }
}

// Selected by the API policy with <set-backend-service backend-id="function-app" />.
resource functionAppBackend 'Microsoft.ApiManagement/service/backends@2024-05-01' = {
  parent: apiManagement
  name: 'function-app'
  properties: {
    description: 'The Function App; API Management authenticates with its managed identity (see the API policy).'
    url: backendUrl
    protocol: 'http'
    tls: {
      validateCertificateChain: true
      validateCertificateName: true
    }
  }
}

resource api 'Microsoft.ApiManagement/service/apis@2024-05-01' = {
  parent: apiManagement
  name: 'functions'
  properties: {
    displayName: 'Functions behind API Management'
    path: 'api'
    protocols: [
      'https'
    ]
    subscriptionRequired: true
    // Set explicitly: API Management ignores the OpenAPI securitySchemes on import. The local
    // gateway uses the same names (scripts/local/gateway/api.ts; test/apim holds them equal).
    subscriptionKeyParameterNames: {
      header: 'Ocp-Apim-Subscription-Key'
      query: 'subscription-key'
    }
    serviceUrl: backendUrl
    format: 'openapi'
    value: loadTextContent('../../apim/openapi.yaml')
  }

  resource policy 'policies' = {
    name: 'policy'
    properties: {
      format: 'rawxml'
      // A user-assigned identity must be named in the policy (client-id); a system-assigned one
      // must not. Each file is a complete policy; test/infra holds them equal but for client-id.
      value: empty(apimIdentityClientId)
        ? loadTextContent('../../apim/policies/api.xml')
        : loadTextContent('../../apim/policies/user-assigned-identity/api.xml')
    }
    // The policy names the backend and the named values: they must exist before it is saved.
    dependsOn: [
      apiAppClientIdNamedValue
      apimIdentityClientIdNamedValue
      functionAppBackend
    ]
  }
}

resource product 'Microsoft.ApiManagement/service/products@2024-05-01' = {
  parent: apiManagement
  name: 'functions'
  properties: {
    displayName: 'Functions'
    description: 'Access to the Functions API. Each subscription is rate limited (apim/policies/product.xml).'
    subscriptionRequired: true
    approvalRequired: false
    state: 'published'
  }

  resource policy 'policies' = {
    name: 'policy'
    properties: {
      format: 'rawxml'
      value: loadTextContent('../../apim/policies/product.xml')
    }
  }

  resource productApi 'apis' = {
    name: api.name
  }
}

// The subscription whose key clients (and the smoke test, through listSecrets) use.
resource subscription 'Microsoft.ApiManagement/service/subscriptions@2024-05-01' = {
  parent: apiManagement
  name: 'functions-client'
  properties: {
    displayName: 'Functions client'
    scope: product.id
    state: 'active'
    allowTracing: false
  }
}

@description('Path of the API on the gateway.')
output apiPath string = api.properties.path

@description('Resource id of the subscription (never its keys: read them with listSecrets when needed).')
output subscriptionResourceId string = subscription.id
