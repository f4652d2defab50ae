metadata description = 'The virtual network of the network-isolated variant (NETWORK_ISOLATION=true): one subnet that API Management (Standard v2) integrates with for its outbound calls, with the Microsoft.Web service endpoint the Function App\'s access restriction admits.'

@description('Required. Name of the virtual network.')
param virtualNetworkName string

@description('Required. Name of the network security group of the integration subnet.')
param networkSecurityGroupName string

@description('Required. Azure region of the network (the same as API Management\'s: outbound integration requires it).')
param location string

@description('Required. Tags applied to the network and its security group.')
param tags object

@description('Optional. Address space of the virtual network.')
param addressPrefix string = '10.40.0.0/24'

@description('Optional. Address range of the integration subnet: /27 or larger, as API Management recommends for a new subnet.')
param integrationSubnetPrefix string = '10.40.0.0/27'

var integrationSubnetName = 'apim-outbound'

// No rules of its own: the default rules allow outbound traffic to the virtual network and the
// internet (Entra ID for the managed identity token, the Function App's public host name).
resource networkSecurityGroup 'Microsoft.Network/networkSecurityGroups@2024-10-01' = {
  name: networkSecurityGroupName
  location: location
  tags: tags
  properties: {
    securityRules: []
  }
}

resource virtualNetwork 'Microsoft.Network/virtualNetworks@2024-10-01' = {
  name: virtualNetworkName
  location: location
  tags: tags
  properties: {
    addressSpace: {
      addressPrefixes: [
        addressPrefix
      ]
    }
    subnets: [
      {
        name: integrationSubnetName
        properties: {
          addressPrefix: integrationSubnetPrefix
          // Outbound virtual network integration of API Management v2 tiers needs a dedicated
          // subnet delegated to Microsoft.Web/serverFarms (api-management/integrate-vnet-outbound).
          delegations: [
            {
              name: 'api-management-outbound'
              properties: {
                serviceName: 'Microsoft.Web/serverFarms'
              }
            }
          ]
          // Traffic from this subnet to App Service keeps its subnet identity, which is what the
          // Function App's access restriction (vnetSubnetResourceId) matches.
          serviceEndpoints: [
            {
              service: 'Microsoft.Web'
            }
          ]
          networkSecurityGroup: {
            id: networkSecurityGroup.id
          }
        }
      }
    ]
  }
}

@description('Resource id of the subnet API Management integrates with (and the only source the Function App admits).')
output integrationSubnetId string = resourceId(
  'Microsoft.Network/virtualNetworks/subnets',
  virtualNetwork.name,
  integrationSubnetName
)
