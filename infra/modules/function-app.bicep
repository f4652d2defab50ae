metadata description = 'The Function App on Flex Consumption: keyless storage and telemetry, hardened transport, no basic publishing credentials, and App Service Authentication that admits only API Management\'s managed identity.'

@description('Required. Name of the Function App.')
param functionAppName string

@description('Required. Name of the Flex Consumption plan.')
param appServicePlanName string

@description('Required. Azure region of the plan and the app.')
param location string

@description('Required. Tags applied to the plan and the app.')
param tags object

@description('Required. azd service name of the app (`azd-service-name` tag): `azd deploy` finds the app by it.')
param serviceName string

@description('Required. Resource id of the user-assigned identity the app uses for storage and telemetry.')
param identityResourceId string

@description('Required. Client id of that identity.')
param identityClientId string

@description('Required. Blob endpoint of the storage account (`AzureWebJobsStorage__blobServiceUri`).')
param storageBlobEndpoint string

@description('Required. URL of the blob container that holds the deployed package.')
param deploymentContainerUrl string

@description('Required. Connection string of Application Insights.')
param applicationInsightsConnectionString string

@description('Required. Client id (appId) of the app registration that represents the Function App: the token audience.')
@minLength(36)
@maxLength(36)
param apiAppClientId string

@description('Required. App role the caller\'s token must carry (`AUTH_REQUIRED_ROLES`).')
@minLength(1)
param apiAppRole string

@description('Required. Principal (object) id of API Management\'s managed identity: the only caller admitted.')
@minLength(36)
@maxLength(36)
param allowedCallerPrincipalId string

@description('Optional. Client id of API Management\'s identity, when Bicep knows it (a user-assigned identity): Easy Auth\'s allowedApplications and AUTH_ALLOWED_CLIENT_IDS. Empty (default): the caller is checked by its object id only.')
param allowedCallerClientId string = ''

@description('Optional. Resource id of the only subnet whose traffic reaches the app (API Management\'s outbound integration subnet, with the Microsoft.Web service endpoint). Empty (default): no access restriction.')
param allowedSubnetId string = ''

@description('Optional. Memory of each instance in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

// The range Azure accepts for a Flex Consumption app: "the lowest maximum instance count value is
// 1, and the highest supported maximum instance count value is 1000" (Event-driven scaling in Azure
// Functions, "Limit scale-out", learn.microsoft.com/azure/azure-functions/event-driven-scaling,
// updated 2026-08-03). The preview and GA pages said 40 was the lowest; the current page says 1.
@description('Optional. Upper bound on the number of instances of each function group (and so on the cost of a traffic spike), 1 to 1000.')
@minValue(1)
@maxValue(1000)
param maximumInstanceCount int = 100

// The v2 issuer of the tenant, matching the app registration's requestedAccessTokenVersion 2.
var tokenIssuer = '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
// Where the tenant publishes its signing keys (the same for v1 and v2 tokens).
var signingKeysUri = '${environment().authentication.loginEndpoint}${tenant().tenantId}/discovery/v2.0/keys'

// A v2 token's `aud` is the client id; the App ID URI is accepted too, as AUTH_AUDIENCES does.
var tokenAudiences = [
  apiAppClientId
  'api://${apiAppClientId}'
]

// NETWORK_ISOLATION: the app answers only traffic from API Management's integration subnet;
// anything else gets App Service's 403 before Easy Auth or the code run
// (learn.microsoft.com/azure/app-service/app-service-ip-restrictions). The SCM site, where
// `azd deploy` uploads the package, does not inherit these rules (scmIpSecurityRestrictionsUseMain
// false) and stays reachable by deployers, who need an Entra ID token with rights on the app:
// basic (publishing) credentials are off.
var accessRestrictions = {
  ipSecurityRestrictionsDefaultAction: 'Deny'
  ipSecurityRestrictions: [
    {
      name: 'api-management'
      description: 'API Management\'s outbound virtual network integration subnet'
      action: 'Allow'
      priority: 100
      vnetSubnetResourceId: allowedSubnetId
    }
  ]
  scmIpSecurityRestrictionsUseMain: false
  scmIpSecurityRestrictionsDefaultAction: 'Allow'
}

// APIM_IDENTITY=userAssigned: the caller's client id (azp/appid) for the code's own check.
var callerClientIdSettings = empty(allowedCallerClientId)
  ? []
  : [
      {
        name: 'AUTH_ALLOWED_CLIENT_IDS'
        value: allowedCallerClientId
      }
    ]

resource appServicePlan 'Microsoft.Web/serverfarms@2024-11-01' = {
  name: appServicePlanName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-11-01' = {
  name: functionAppName
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    serverFarmId: appServicePlan.id
    httpsOnly: true
    // Off, or the front end sets an ARRAffinity cookie whose Domain is this app's host name, and
    // API Management passes Set-Cookie through to the client (Azure/azure-functions-host#4044:
    // left out, it is on). Functions are stateless: no instance needs to be sticky.
    clientAffinityEnabled: false
    clientCertEnabled: false
    publicNetworkAccess: 'Enabled'
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      runtime: {
        name: 'node'
        version: '22'
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
    }
    siteConfig: union({
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      appSettings: concat([
        // Host storage with the identity: no account key anywhere.
        {
          name: 'AzureWebJobsStorage__credential'
          value: 'managedidentity'
        }
        {
          name: 'AzureWebJobsStorage__clientId'
          value: identityClientId
        }
        {
          name: 'AzureWebJobsStorage__blobServiceUri'
          value: storageBlobEndpoint
        }
        // Telemetry with an Entra ID token (Application Insights has local auth disabled).
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: applicationInsightsConnectionString
        }
        {
          name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING'
          value: 'ClientId=${identityClientId};Authorization=AAD'
        }
        // The function code's own token validation (functions/auth/config.ts reads these names).
        // AUTH_ISSUERS and AUTH_JWKS_URI pin the v2 issuer Easy Auth uses (the app registration
        // requests v2 tokens) and this cloud's keys, instead of the code's public-cloud v1+v2
        // defaults.
        {
          name: 'AUTH_TENANT_ID'
          value: tenant().tenantId
        }
        {
          name: 'AUTH_AUDIENCES'
          value: join(tokenAudiences, ',')
        }
        {
          name: 'AUTH_ALLOWED_CALLER_OBJECT_IDS'
          value: allowedCallerPrincipalId
        }
        {
          name: 'AUTH_REQUIRED_ROLES'
          value: apiAppRole
        }
        {
          name: 'AUTH_ISSUERS'
          value: tokenIssuer
        }
        {
          name: 'AUTH_JWKS_URI'
          value: signingKeysUri
        }
        // App Service Authentication accepts tokens from this tenant only.
        {
          name: 'WEBSITE_AUTH_AAD_ALLOWED_TENANTS'
          value: tenant().tenantId
        }
      ], callerClientIdSettings)
      },
      // Only API Management's subnet reaches the app; the SCM (deployment) site keeps its own rules.
      empty(allowedSubnetId) ? {} : accessRestrictions
    )
  }

  // Deployments use Entra ID (azd sends a token); FTP and SCM basic-auth credentials stay off.
  resource ftpBasicPublishingCredentials 'basicPublishingCredentialsPolicies' = {
    name: 'ftp'
    properties: {
      allow: false
    }
  }

  resource scmBasicPublishingCredentials 'basicPublishingCredentialsPolicies' = {
    name: 'scm'
    properties: {
      allow: false
    }
  }

  // App Service Authentication (Easy Auth): a valid Entra ID token of this tenant, for this app
  // registration, issued to API Management's identity, or 401/403 before the code runs.
  resource authSettings 'config' = {
    name: 'authsettingsV2'
    properties: {
      platform: {
        enabled: true
      }
      globalValidation: {
        requireAuthentication: true
        unauthenticatedClientAction: 'Return401'
      }
      identityProviders: {
        azureActiveDirectory: {
          enabled: true
          registration: {
            clientId: apiAppClientId
            openIdIssuer: tokenIssuer
          }
          validation: {
            allowedAudiences: tokenAudiences
            // allowedApplications only when the client id is known: an allow-list that is present
            // but empty would refuse every caller.
            defaultAuthorizationPolicy: union({
              allowedPrincipals: {
                identities: [
                  allowedCallerPrincipalId
                ]
              }
            }, empty(allowedCallerClientId) ? {} : { allowedApplications: [allowedCallerClientId] })
          }
        }
      }
      login: {
        tokenStore: {
          enabled: false
        }
      }
      httpSettings: {
        requireHttps: true
      }
    }
  }
}

@description('Name of the Function App.')
output name string = functionApp.name

@description('Default host name of the Function App (no scheme).')
output defaultHostName string = functionApp.properties.defaultHostName
