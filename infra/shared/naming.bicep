metadata description = 'Resource names, derived from the azd environment so that a rerun updates the same resources.'

@export()
@description('The name of every resource the template creates.')
type resourceNamesType = {
  @description('Resource group that holds everything (`rg-<environment>`).')
  resourceGroup: string

  @description('Log Analytics workspace.')
  logAnalytics: string

  @description('Application Insights component.')
  applicationInsights: string

  @description('Storage account of the Function App (3-24 lower-case letters and digits).')
  storageAccount: string

  @description('Blob container that holds the deployed package of the Function App.')
  deploymentContainer: string

  @description('User-assigned managed identity of the Function App.')
  functionAppIdentity: string

  @description('Flex Consumption plan.')
  appServicePlan: string

  @description('Function App.')
  functionApp: string

  @description('API Management service (globally unique, 1-50 characters).')
  apiManagement: string

  @description('User-assigned managed identity of API Management (APIM_IDENTITY=userAssigned).')
  apiManagementIdentity: string

  @description('Virtual network of the network-isolated variant (NETWORK_ISOLATION=true).')
  virtualNetwork: string

  @description('Network security group of API Management\'s integration subnet (NETWORK_ISOLATION=true).')
  networkSecurityGroup: string
}

@export()
@description('The names for one azd environment. `token` is a short hash unique to the subscription, environment and region.')
func resourceNames(environmentName string, token string) resourceNamesType => {
  resourceGroup: 'rg-${environmentName}'
  logAnalytics: 'log-${token}'
  applicationInsights: 'appi-${token}'
  storageAccount: 'st${token}'
  deploymentContainer: 'app-package'
  functionAppIdentity: 'id-func-${token}'
  appServicePlan: 'plan-${token}'
  functionApp: 'func-${token}'
  apiManagement: 'apim-${token}'
  apiManagementIdentity: 'id-apim-${token}'
  virtualNetwork: 'vnet-${token}'
  networkSecurityGroup: 'nsg-apim-${token}'
}
