targetScope = 'subscription'

metadata description = 'An Azure Functions app that only API Management can call: API Management authenticates with its managed identity, the Function App checks the token with App Service Authentication and in its code.'

import { resourceNames } from 'shared/naming.bicep'

// Parameters

@description('Required. Name of the azd environment (AZURE_ENV_NAME): part of the resource names and the `azd-env-name` tag.')
@minLength(1)
@maxLength(64)
param environmentName string

@description('Required. Azure region of every resource (AZURE_LOCATION). It must offer the Flex Consumption plan and the API Management Consumption tier.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

// The preprovision hook sets these two before every deployment. They default to empty so that azd,
// which resolves (and prompts for) parameters before any hook runs, never asks for them; an empty
// or malformed value stops the deployment below, before anything is created.

@description('Conditional. Client id (appId, a GUID) of the Function App\'s Entra ID app registration (API_APP_CLIENT_ID, set by the preprovision hook). Required for a deployment: empty stops it.')
param apiAppClientId string = ''

@description('Conditional. Value of the app role API Management\'s identity must hold (API_APP_ROLE, set by the preprovision hook). Required for a deployment: empty stops it.')
param apiAppRole string = ''

@description('Optional. Email address of the API Management publisher; API Management sends service notifications to it.')
param apimPublisherEmail string = 'noreply@example.com'

@description('Optional. Name of the API Management publisher, shown in the developer portal and in emails.')
param apimPublisherName string = 'Functions behind API Management'

@description('Optional. `true` (azd value NETWORK_ISOLATION) deploys the network-isolated variant: API Management on the Standard v2 tier with outbound virtual network integration, and a Function App that refuses, at the network layer, every caller but that subnet. `false` (default): the Consumption tier and a public Function App. Choose before the first `azd up`: API Management cannot move between these tiers in place.')
@allowed([
  'false'
  'true'
])
param networkIsolation string = 'false'

@description('Optional. Which managed identity API Management calls the Function App with (azd value APIM_IDENTITY): `systemAssigned` (default) or `userAssigned`, a separate resource whose client id the policy, Easy Auth and the code then name, and whose app role outlives API Management.')
@allowed([
  'systemAssigned'
  'userAssigned'
])
param apimIdentity string = 'systemAssigned'

@description('Optional. Email address the refusal alert notifies (ALERT_EMAIL). Empty: no action group, the alert shows in the portal only.')
param alertEmail string = ''

// Variables

var isolated = networkIsolation == 'true'
var apimUserAssigned = apimIdentity == 'userAssigned'

// Never an Easy Auth audience or AUTH_* setting from an empty or malformed value: fail() stops the
// deployment at validation, naming the azd value and the step that sets it.
var checkedApiAppClientId = length(apiAppClientId) == 36
  ? apiAppClientId
  : fail('apiAppClientId (azd value API_APP_CLIENT_ID) must be the 36-character client id of the app registration, got "${apiAppClientId}". The preprovision hook sets it: run `azd provision` (or `azd up`) again, or `azd env set API_APP_CLIENT_ID <appId>`.')
var checkedApiAppRole = !empty(apiAppRole)
  ? apiAppRole
  : fail('apiAppRole (azd value API_APP_ROLE) is empty. The preprovision hook sets it: run `azd provision` (or `azd up`) again, or `azd env set API_APP_ROLE Api.Invoke`.')

var names = resourceNames(environmentName, uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}

// Resources

resource resourceGroup 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: names.resourceGroup
  location: location
  tags: tags
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: resourceGroup
  params: {
    logAnalyticsName: names.logAnalytics
    applicationInsightsName: names.applicationInsights
    location: location
    tags: tags
    alertEmail: alertEmail
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: resourceGroup
  params: {
    storageAccountName: names.storageAccount
    deploymentContainerName: names.deploymentContainer
    location: location
    tags: tags
  }
}

module functionAppIdentity 'modules/identity.bicep' = {
  name: 'function-app-identity'
  scope: resourceGroup
  params: {
    name: names.functionAppIdentity
    location: location
    tags: tags
  }
}

module rbac 'modules/rbac.bicep' = {
  name: 'rbac'
  scope: resourceGroup
  params: {
    functionAppPrincipalId: functionAppIdentity.outputs.principalId
    storageAccountName: storage.outputs.storageAccountName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    apimPrincipalId: apimCallerPrincipalId
  }
}

// APIM_IDENTITY=userAssigned: its own resource, so deleting or recreating API Management keeps
// the identity and the app role granted to it.
module apimUserAssignedIdentity 'modules/identity.bicep' = if (apimUserAssigned) {
  name: 'apim-identity'
  scope: resourceGroup
  params: {
    name: names.apiManagementIdentity
    location: location
    tags: tags
  }
}

module network 'modules/network.bicep' = if (isolated) {
  name: 'network'
  scope: resourceGroup
  params: {
    virtualNetworkName: names.virtualNetwork
    networkSecurityGroupName: names.networkSecurityGroup
    location: location
    tags: tags
  }
}

module apim 'modules/apim.bicep' = {
  name: 'apim'
  scope: resourceGroup
  params: {
    name: names.apiManagement
    location: location
    tags: tags
    publisherEmail: apimPublisherEmail
    publisherName: apimPublisherName
    outboundSubnetId: isolated ? network!.outputs.integrationSubnetId : ''
    userAssignedIdentityId: apimUserAssigned ? apimUserAssignedIdentity!.outputs.resourceId : ''
  }
}

// The identity the Function App admits: its object id always; its client id when Bicep knows it.
var apimCallerPrincipalId = apimUserAssigned ? apimUserAssignedIdentity!.outputs.principalId : apim.outputs.principalId
var apimCallerClientId = apimUserAssigned ? apimUserAssignedIdentity!.outputs.clientId : ''

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  scope: resourceGroup
  params: {
    functionAppName: names.functionApp
    appServicePlanName: names.appServicePlan
    location: location
    tags: tags
    serviceName: 'api'
    identityResourceId: functionAppIdentity.outputs.resourceId
    identityClientId: functionAppIdentity.outputs.clientId
    storageBlobEndpoint: storage.outputs.blobEndpoint
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    apiAppClientId: checkedApiAppClientId
    apiAppRole: checkedApiAppRole
    allowedCallerPrincipalId: apimCallerPrincipalId
    allowedCallerClientId: apimCallerClientId
    allowedSubnetId: isolated ? network!.outputs.integrationSubnetId : ''
  }
  // The host reaches its storage with the identity as soon as it starts: roles first.
  dependsOn: [
    rbac
  ]
}

module apimApi 'modules/apim-api.bicep' = {
  name: 'apim-api'
  scope: resourceGroup
  params: {
    apiManagementName: apim.outputs.name
    functionAppHostName: functionApp.outputs.defaultHostName
    apiAppClientId: checkedApiAppClientId
    apimIdentityClientId: apimCallerClientId
  }
}

module apimLogging 'modules/apim-logging.bicep' = {
  name: 'apim-logging'
  scope: resourceGroup
  params: {
    apiManagementName: apim.outputs.name
    applicationInsightsId: monitoring.outputs.applicationInsightsId
    applicationInsightsConnectionString: monitoring.outputs.applicationInsightsConnectionString
    identityClientId: apimUserAssigned ? apimUserAssignedIdentity!.outputs.clientId : 'SystemAssigned'
  }
  // The identity needs its role on Application Insights before the gateway sends anything.
  dependsOn: [
    rbac
  ]
}

// Outputs: the azd environment values the hooks, the smoke test and the README use. No secrets.

@description('Azure region of the resources.')
output AZURE_LOCATION string = location

@description('Tenant of the deployment: the tenant whose tokens the Function App accepts.')
output AZURE_TENANT_ID string = tenant().tenantId

@description('Resource group that holds every resource.')
output AZURE_RESOURCE_GROUP string = resourceGroup.name

@description('Name of the Function App.')
output FUNCTION_APP_NAME string = functionApp.outputs.name

@description('URL of the Function App (a direct call is refused: 401 by Easy Auth, or 403 by the network with NETWORK_ISOLATION=true).')
output FUNCTION_APP_URL string = 'https://${functionApp.outputs.defaultHostName}'

@description('Name of the API Management service.')
output APIM_NAME string = apim.outputs.name

@description('Gateway URL of API Management: the public entry point.')
output APIM_GATEWAY_URL string = apim.outputs.gatewayUrl

@description('Path of the API on the gateway (operations are under <gateway>/<path>/).')
output APIM_API_PATH string = apimApi.outputs.apiPath

@description('Principal id of API Management\'s managed identity, system- or user-assigned (the postprovision hook assigns it the app role).')
output APIM_PRINCIPAL_ID string = apimCallerPrincipalId

@description('Resource id of the API Management subscription; its keys are read with listSecrets, never output.')
output APIM_SUBSCRIPTION_RESOURCE_ID string = apimApi.outputs.subscriptionResourceId
