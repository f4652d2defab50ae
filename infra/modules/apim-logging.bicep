metadata description = 'API Management logs every call to the same Application Insights as the Function App, with its managed identity, so that one operation id follows a call from the gateway to the function.'

@description('Required. Name of the API Management service (created by apim.bicep).')
param apiManagementName string

@description('Required. Resource id of the Application Insights component.')
param applicationInsightsId string

@description('Required. Connection string of Application Insights. Not a secret: local auth is disabled, so it sends nothing without an Entra ID token.')
param applicationInsightsConnectionString string

@description('Optional. The client id of API Management\'s user-assigned identity (APIM_IDENTITY=userAssigned), or `SystemAssigned` (default) for its system-assigned identity.')
param identityClientId string = 'SystemAssigned'

resource apiManagement 'Microsoft.ApiManagement/service@2024-05-01' existing = {
  name: apiManagementName
}

// Keyless: the connection string names the component, API Management's identity, system- or
// user-assigned (Monitoring Metrics Publisher on the component, rbac.bicep) authenticates what it sends
// (learn.microsoft.com/azure/api-management/api-management-howto-app-insights, all tiers).
resource logger 'Microsoft.ApiManagement/service/loggers@2024-05-01' = {
  parent: apiManagement
  name: 'application-insights'
  properties: {
    loggerType: 'applicationInsights'
    description: 'The Application Insights of the Function App.'
    resourceId: applicationInsightsId
    credentials: {
      connectionString: applicationInsightsConnectionString
      identityClientId: identityClientId
    }
    isBuffered: true
  }
}

// Every API: every call is logged (sampling 100 %, so that a call without a gateway row did not
// pass through the gateway), W3C trace context is forwarded to the backend (traceparent), and no
// header, body or client IP is logged.
resource diagnostic 'Microsoft.ApiManagement/service/diagnostics@2024-05-01' = {
  parent: apiManagement
  name: 'applicationinsights'
  properties: {
    loggerId: logger.id
    alwaysLog: 'allErrors'
    httpCorrelationProtocol: 'W3C'
    verbosity: 'information'
    logClientIp: false
    sampling: {
      samplingType: 'fixed'
      percentage: 100
    }
    frontend: {
      request: {
        headers: []
        body: {
          bytes: 0
        }
      }
      response: {
        headers: []
        body: {
          bytes: 0
        }
      }
    }
    backend: {
      request: {
        headers: []
        body: {
          bytes: 0
        }
      }
      response: {
        headers: []
        body: {
          bytes: 0
        }
      }
    }
  }
}

@description('Resource id of the logger.')
output loggerId string = logger.id
