metadata description = 'The API Management service (Consumption tier) with the system-assigned managed identity it calls the Function App with.'

@description('Required. Name of the service (globally unique, 1-50 characters).')
@minLength(1)
@maxLength(50)
param name string

@description('Required. Azure region of the service.')
param location string

@description('Required. Tags applied to the service.')
param tags object

@description('Required. Email address of the publisher (API Management sends service notifications to it).')
param publisherEmail string

@description('Required. Name of the publisher (organisation), shown in the developer portal and emails.')
param publisherName string

resource apiManagement 'Microsoft.ApiManagement/service@2024-05-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: 'Consumption'
    capacity: 0
  }
  // The identity whose token the API policy (authentication-managed-identity) sends to the Function App.
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    publisherEmail: publisherEmail
    publisherName: publisherName
  }
}

@description('Name of the service.')
output name string = apiManagement.name

@description('Gateway URL of the service (`https://<name>.azure-api.net`).')
output gatewayUrl string = apiManagement.properties.gatewayUrl

@description('Principal (object) id of the system-assigned identity: the only caller the Function App accepts.')
output principalId string = apiManagement.identity.principalId
