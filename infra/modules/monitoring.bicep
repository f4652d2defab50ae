metadata description = 'Log Analytics and workspace-based Application Insights that accept only Entra ID-authenticated telemetry; the saved queries and the alert on the refusals of the auth layer.'

@description('Required. Name of the Log Analytics workspace.')
param logAnalyticsName string

@description('Required. Name of the Application Insights component.')
param applicationInsightsName string

@description('Required. Azure region of the resources.')
param location string

@description('Required. Tags applied to every resource.')
param tags object

@description('Optional. Days Log Analytics keeps the data (30 is the minimum and is included in the ingestion price).')
@minValue(30)
@maxValue(730)
param retentionInDays int = 30

@description('Optional. Email address the refusal alert notifies (azd value ALERT_EMAIL). Empty: the alert fires in the portal only, and no action group is created.')
param alertEmail string = ''

// The saved queries (infra/queries/*.kql, one file each; test/observability parses and runs them).
// Each is declared on its own (no loop): the test's ARM evaluator reads plain resources.
var queryRelations = {
  categories: [
    'applications'
  ]
  resourceTypes: [
    'microsoft.operationalinsights/workspaces'
  ]
}
var queryTags = {
  labels: [
    'auth-refusals'
  ]
}

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2025-02-01' = {
  name: logAnalyticsName
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: retentionInDays
    features: {
      disableLocalAuth: true
    }
  }
}

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: applicationInsightsName
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    // Only telemetry sent with an Entra ID token is accepted (the Function App uses its identity).
    DisableLocalAuth: true
  }
}

// Saved queries: Log Analytics shows them under Queries, in the category Applications.
resource queryPack 'Microsoft.OperationalInsights/queryPacks@2025-02-01' = {
  name: '${logAnalyticsName}-queries'
  location: location
  tags: tags
  properties: {}
}

resource refusalsByReasonQuery 'Microsoft.OperationalInsights/queryPacks/queries@2025-02-01' = {
  parent: queryPack
  // Query ids are GUIDs: this one is stable for the query.
  name: guid(queryPack.id, 'refusals-by-reason')
  properties: {
    displayName: 'Refusals by reason over time'
    description: 'Refusals (401, 403, 503) and failures (500) of the auth layer by reason code, in 5-minute bins.'
    body: loadTextContent('../queries/refusals-by-reason.kql')
    related: queryRelations
    tags: queryTags
  }
}

resource firstRefusalAfterDeploymentQuery 'Microsoft.OperationalInsights/queryPacks/queries@2025-02-01' = {
  parent: queryPack
  // Query ids are GUIDs: this one is stable for the query.
  name: guid(queryPack.id, 'first-refusal-after-deployment')
  properties: {
    displayName: 'First refusal since the host started'
    description: 'The first refusal since the Functions host last started (a deployment restarts it).'
    body: loadTextContent('../queries/first-refusal-after-deployment.kql')
    related: queryRelations
    tags: queryTags
  }
}

resource signingKeysUnavailableQuery 'Microsoft.OperationalInsights/queryPacks/queries@2025-02-01' = {
  parent: queryPack
  // Query ids are GUIDs: this one is stable for the query.
  name: guid(queryPack.id, 'signing-keys-unavailable')
  properties: {
    displayName: '503 signing_keys_unavailable'
    description: 'Every time the app could not fetch the signing keys of Entra ID, and why.'
    body: loadTextContent('../queries/signing-keys-unavailable.kql')
    related: queryRelations
    tags: queryTags
  }
}

resource callsWithoutApiManagementQuery 'Microsoft.OperationalInsights/queryPacks/queries@2025-02-01' = {
  parent: queryPack
  // Query ids are GUIDs: this one is stable for the query.
  name: guid(queryPack.id, 'calls-without-api-management')
  properties: {
    displayName: 'Calls that did not pass through API Management'
    description: 'Invocations of the Function App whose operation API Management did not log.'
    body: loadTextContent('../queries/calls-without-api-management.kql')
    related: queryRelations
    tags: queryTags
  }
}

resource latestRefusalEndToEndQuery 'Microsoft.OperationalInsights/queryPacks/queries@2025-02-01' = {
  parent: queryPack
  // Query ids are GUIDs: this one is stable for the query.
  name: guid(queryPack.id, 'latest-refusal-end-to-end')
  properties: {
    displayName: 'The latest refusal, end to end'
    description: 'Every request and trace of one operation, from API Management to the function.'
    body: loadTextContent('../queries/latest-refusal-end-to-end.kql')
    related: queryRelations
    tags: queryTags
  }
}

// The e-mail receiver of the alert, only when an address was given.
resource alertActionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: '${applicationInsightsName}-refusals'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'refusals'
    enabled: true
    emailReceivers: [
      {
        name: 'refusal-alert'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

// Fires on a burst of refusals or any signing_keys_unavailable (infra/queries/refusal-alert.kql).
resource refusalAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = {
  name: '${applicationInsightsName}-refusals'
  location: location
  tags: tags
  kind: 'LogAlert'
  properties: {
    displayName: 'Refusals of the auth layer'
    description: 'A burst of refusals (20 or more in 5 minutes) or any 503 signing_keys_unavailable.'
    severity: 2
    enabled: true
    scopes: [
      logAnalytics.id
    ]
    evaluationFrequency: 'PT5M'
    windowSize: 'PT5M'
    criteria: {
      allOf: [
        {
          query: loadTextContent('../queries/refusal-alert.kql')
          timeAggregation: 'Count'
          operator: 'GreaterThan'
          threshold: 0
          failingPeriods: {
            numberOfEvaluationPeriods: 1
            minFailingPeriodsToAlert: 1
          }
        }
      ]
    }
    autoMitigate: true
    actions: {
      actionGroups: empty(alertEmail) ? [] : [alertActionGroup.id]
    }
  }
}

@description('Name of the Application Insights component.')
output applicationInsightsName string = applicationInsights.name

@description('Connection string of Application Insights. Not a secret here: with local auth disabled it cannot send telemetry without an Entra ID token.')
output applicationInsightsConnectionString string = applicationInsights.properties.ConnectionString

@description('Resource id of Application Insights (the API Management logger sends to it).')
output applicationInsightsId string = applicationInsights.id
