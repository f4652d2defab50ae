metadata description = 'Every Azure role assignment of the template, with the role definition ids named.'

@description('Required. Principal (object) id of the Function App identity.')
param functionAppPrincipalId string

@description('Required. Name of the storage account the Function App uses for its host and its deployment package.')
param storageAccountName string

@description('Required. Name of the Application Insights component the Function App sends telemetry to.')
param applicationInsightsName string

@description('Required. Principal (object) id of the identity API Management calls with, system- or user-assigned: it sends the gateway\'s telemetry to the same Application Insights.')
param apimPrincipalId string

// Built-in role definition ids (the same in every tenant and cloud).
var roleDefinitionIds = {
  // Read, write and delete blobs and containers: the Functions host and the deployment package.
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  // Publish telemetry to Application Insights with an Entra ID token (local auth is disabled).
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

resource storageAccount 'Microsoft.Storage/storageAccounts@2025-01-01' existing = {
  name: storageAccountName
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource functionAppStorageBlobDataOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storageAccount.id, functionAppPrincipalId, roleDefinitionIds.storageBlobDataOwner)
  scope: storageAccount
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      roleDefinitionIds.storageBlobDataOwner
    )
    principalId: functionAppPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Function App identity: host storage and deployment package.'
  }
}

resource functionAppMonitoringMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, functionAppPrincipalId, roleDefinitionIds.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      roleDefinitionIds.monitoringMetricsPublisher
    )
    principalId: functionAppPrincipalId
    principalType: 'ServicePrincipal'
    description: 'Function App identity: telemetry with Entra ID authentication.'
  }
}

resource apimMonitoringMetricsPublisher 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(applicationInsights.id, apimPrincipalId, roleDefinitionIds.monitoringMetricsPublisher)
  scope: applicationInsights
  properties: {
    roleDefinitionId: subscriptionResourceId(
      'Microsoft.Authorization/roleDefinitions',
      roleDefinitionIds.monitoringMetricsPublisher
    )
    principalId: apimPrincipalId
    principalType: 'ServicePrincipal'
    description: 'API Management identity: gateway telemetry with Entra ID authentication (apim-logging.bicep).'
  }
}
