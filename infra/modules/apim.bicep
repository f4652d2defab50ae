metadata description = 'The API Management service and the managed identity it calls the Function App with: Consumption tier and a system-assigned identity by default; Standard v2 with outbound virtual network integration, and a user-assigned identity, when main.bicep asks for them.'

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

@description('Optional. Resource id of the subnet for outbound virtual network integration. Empty (default): the Consumption tier, without a virtual network; set: the Standard v2 tier, whose calls to the Function App leave through this subnet.')
param outboundSubnetId string = ''

@description('Optional. Resource id of a user-assigned managed identity to call the Function App with. Empty (default): a system-assigned identity.')
param userAssignedIdentityId string = ''

// Outbound virtual network integration exists only in Standard v2 and Premium v2
// (learn.microsoft.com/azure/api-management/integrate-vnet-outbound); Standard v2 is the cheaper.
var integrated = !empty(outboundSubnetId)

resource apiManagement 'Microsoft.ApiManagement/service@2024-05-01' = {
  name: name
  location: location
  tags: tags
  sku: {
    name: integrated ? 'StandardV2' : 'Consumption'
    capacity: integrated ? 1 : 0
  }
  // The identity whose token the API policy (authentication-managed-identity) sends to the Function App.
  identity: empty(userAssignedIdentityId)
    ? {
        type: 'SystemAssigned'
      }
    : {
        type: 'UserAssigned'
        userAssignedIdentities: {
          '${userAssignedIdentityId}': {}
        }
      }
  properties: union(
    {
      publisherEmail: publisherEmail
      publisherName: publisherName
    },
    // External: the gateway stays public, outbound calls go through the subnet.
    integrated
      ? {
          virtualNetworkType: 'External'
          virtualNetworkConfiguration: {
            subnetResourceId: outboundSubnetId
          }
        }
      : {}
  )
}

@description('Name of the service.')
output name string = apiManagement.name

@description('Gateway URL of the service (`https://<name>.azure-api.net`).')
output gatewayUrl string = apiManagement.properties.gatewayUrl

@description('Principal (object) id of the system-assigned identity: the only caller the Function App accepts. Empty with a user-assigned identity (main.bicep takes that identity\'s).')
output principalId string = empty(userAssignedIdentityId) ? apiManagement.identity.principalId : ''
