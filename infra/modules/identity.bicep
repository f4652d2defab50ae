metadata description = 'A user-assigned managed identity: the Function App\'s (storage, deployment package and telemetry), and API Management\'s with APIM_IDENTITY=userAssigned.'

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

@description('Client id of the identity (what app settings and policies name).')
output clientId string = identity.properties.clientId

@description('Principal (object) id of the identity (what role assignments name).')
output principalId string = identity.properties.principalId
