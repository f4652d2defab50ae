/**
 * The Azure side of the azd model: provisioning deploys the compiled main.bicep with the ARM
 * evaluator (test/infra/arm.ts) in the subscription's tenant, as ARM names it, and stands in for
 * what it created: API Management's managed identity becomes a principal of the fake Graph; the
 * Function App behind API Management is the loopback deployment of the smoke-test tests, whose
 * `/whoami` reports the app roles the fake Graph holds for that identity and whose front end
 * sets the ARRAffinity cookie exactly when the deployed site leaves `clientAffinityEnabled` on,
 * and refuses direct calls with App Service's 403 exactly when the site's access restrictions
 * deny by default (NETWORK_ISOLATION=true; the virtual network itself is not modelled);
 * ARM's listSecrets returns its subscription key.
 *
 * Not modelled: DNS, so the outputs APIM_GATEWAY_URL and FUNCTION_APP_URL are replaced by the
 * loopback addresses of the stand-ins; the code that runs in the Function App (the stand-in is
 * not built from the deployed files, which are only recorded).
 */
import type { FakeGraph } from '../hooks/fake-graph';
import { startFakeDeployment, type FakeDeployment } from '../smoke-test/fake-deployment';
import { simulateDeployment, type SimulatedDeployment } from '../../infra/arm';
import { prop, single } from '../../infra/deployment';
import type { ModelCloud } from './azd-up';
import type { Json } from './parameters';

export class FakeCloud implements ModelCloud {
  deployment: SimulatedDeployment | undefined;
  app: FakeDeployment | undefined;
  readonly deployed = new Map<string, string[]>();
  provisions = 0;

  constructor(
    readonly template: Record<string, unknown>,
    private readonly graph: FakeGraph,
  ) {}

  async provision(
    parameters: Record<string, Json>,
    env: Record<string, string>,
  ): Promise<Record<string, string>> {
    const subscriptionId = env.AZURE_SUBSCRIPTION_ID ?? '';
    const deployment = simulateDeployment(this.template, parameters, {
      subscriptionId,
      tenantId: this.graph.arm.tenantOf(subscriptionId),
      deploymentLocation: env.AZURE_LOCATION ?? '',
    });
    this.deployment = deployment;
    this.provisions++;
    const outputs = Object.fromEntries(
      Object.entries(deployment.outputs).map(([k, v]) => [
        k,
        typeof v === 'string' ? v : JSON.stringify(v),
      ]),
    );
    const apimPrincipal = outputs.APIM_PRINCIPAL_ID ?? '';
    this.graph.principals.add(apimPrincipal);
    const site = single(deployment, 'Microsoft.Web/sites');
    this.app ??= await startFakeDeployment({
      whoamiObjectId: apimPrincipal,
      whoamiRoles: () => this.rolesOf(apimPrincipal),
      arrAffinity: prop(site, 'clientAffinityEnabled') !== false,
      // NETWORK_ISOLATION=true: the front end admits only API Management's subnet.
      accessRestricted: prop(site, 'siteConfig', 'ipSecurityRestrictionsDefaultAction') === 'Deny',
    });
    this.graph.arm.secrets.set(
      outputs.APIM_SUBSCRIPTION_RESOURCE_ID ?? '',
      this.app.subscriptionKey,
    );
    return {
      ...outputs,
      APIM_GATEWAY_URL: this.app.gatewayUrl,
      FUNCTION_APP_URL: this.app.functionUrl,
    };
  }

  deploy(service: string, files: string[]): Promise<void> {
    if (!this.deployment) throw new Error('deploy before provision: no Function App');
    this.deployed.set(service, files);
    return Promise.resolve();
  }

  async down(): Promise<void> {
    this.deployment = undefined;
    this.deployed.clear();
    await this.close();
  }

  async close(): Promise<void> {
    await this.app?.close();
    this.app = undefined;
  }

  /** The values of the app roles the fake Graph has assigned to a principal. */
  private rolesOf(principalId: string): string[] {
    return this.graph.assignments
      .filter((a) => a.principalId === principalId)
      .flatMap((a) => {
        const role = this.graph.sps.get(a.resourceId)?.appRoles.find((r) => r.id === a.appRoleId);
        return role?.value ? [role.value] : [];
      });
  }
}
