metadata description = 'The user-assigned managed identity of the Function App (storage, deployment package and telemetry).'

@description('Required. Name of the identity.')
param name string

@description('Required. Azure region of the identity.')
param location string

@description('Required. Tags applied to the identity.')
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: name
  location: location
  tags: tags
}

@description('Resource id of the identity.')
output resourceId string = identity.id

@description('Client id of the identity (what the Function App settings name).')
output clientId string = identity.properties.clientId

@description('Principal (object) id of the identity (what role assignments name).')
output principalId string = identity.properties.principalId
