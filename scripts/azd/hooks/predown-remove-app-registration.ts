import { optionalValue, requireValues } from '../shared/azd-env';
import { graphFor, type HookContext } from './context';
import {
  findApplication,
  findDeletedItem,
  findServicePrincipal,
  sameId,
  type Application,
  type ServicePrincipal,
} from './directory';
import { ensureError, HookError } from '../shared/errors';
import { GRAPH_PERMISSIONS, isNotFound, type GraphClient } from './graph';
import { applicationUniqueName } from './names';
import { RestError, retryWhile } from '../shared/rest';

export interface PredownResult {
  /** Object ids deleted (service principal first, then application). */
  readonly deleted: readonly string[];
  /** Object ids permanently removed from deleted items. */
  readonly purged: readonly string[];
}

function notOurs(message: string): HookError {
  return new HookError(
    'not_ours',
    `${message} Nothing was deleted. If the object is yours, delete it by hand; if the stored id is ` +
      'stale, correct it with `azd env set` and run `azd down` again.',
  );
}

/**
 * Permanently deletes an object this run (or an earlier one) soft-deleted. Best effort: a failure
 * is a warning, since the Azure resources still have to be deleted and Entra purges deleted
 * items by itself after 30 days.
 */
async function purge(
  graph: GraphClient,
  context: HookContext,
  id: string,
  description: string,
): Promise<boolean> {
  try {
    await retryWhile(
      () =>
        graph.request({
          method: 'DELETE',
          path: `/v1.0/directory/deletedItems/${encodeURIComponent(id)}`,
          expect: [204],
          permission: GRAPH_PERMISSIONS.purgeDeleted,
        }),
      isNotFound,
      { sleep: context.sleep, attempts: 5 },
    );
    context.log(`Permanently deleted ${description} from deleted items.`);
    return true;
  } catch (error: unknown) {
    context.warn(
      `${description} stays in Microsoft Entra ID's deleted items (restorable, counted in the ` +
        `directory's object quota, and possibly still holding its uniqueName) until it is purged ` +
        `or 30 days have passed: ${ensureError(error).message}`,
    );
    return false;
  }
}

/** When the registration is already gone, purges what this environment stored, if it is ours. */
async function purgeLeftovers(
  graph: GraphClient,
  context: HookContext,
  uniqueName: string,
): Promise<string[]> {
  const purged: string[] = [];
  const appObjectId = optionalValue(context.values, 'API_APP_OBJECT_ID');
  const spObjectId = optionalValue(context.values, 'API_SP_OBJECT_ID');
  const clientId = optionalValue(context.values, 'API_APP_CLIENT_ID');
  if (spObjectId && clientId) {
    const sp = await findDeletedItem<ServicePrincipal>(graph, spObjectId);
    if (sp && sameId(sp.appId, clientId)) {
      if (await purge(graph, context, spObjectId, `Service principal ${spObjectId}`)) {
        purged.push(spObjectId);
      }
    }
  }
  if (appObjectId) {
    const app = await findDeletedItem<Application>(graph, appObjectId);
    if (app && app.uniqueName === uniqueName) {
      if (
        await purge(graph, context, appObjectId, `App registration ${uniqueName} (${appObjectId})`)
      ) {
        purged.push(appObjectId);
      }
    }
  }
  return purged;
}

/**
 * Who may delete the service principal (learn.microsoft.com/graph/api/serviceprincipal-delete):
 * owning the app registration is not enough; the service principal has owners of its own.
 */
const SERVICE_PRINCIPAL_DELETERS =
  'ownership of the service principal itself (Enterprise applications > Owners; the user who ' +
  'created it with the Application Developer role owns it), or Cloud Application Administrator / ' +
  'Application Administrator';

/** What to delete by hand, and how, when Microsoft Graph refused the hook. */
const byHand = {
  servicePrincipal: (id: string) =>
    `Delete it by hand (\`az ad sp delete --id ${id}\`, or Microsoft Entra ID > Enterprise ` +
    'applications > the application > Properties > Delete), or ask an owner or an administrator to.',
  application: (appId: string) =>
    `Delete it by hand (\`az ad app delete --id ${appId}\`, or Microsoft Entra ID > App ` +
    'registrations > the application > Delete), or ask an owner or an administrator to.',
};

/**
 * Deletes one object. Returns Microsoft Graph's refusal (403), worded with the permission it
 * needs, instead of throwing it, so that `azd down` goes on to the Azure resources rather than
 * stopping halfway; undefined once deleted. Other failures are thrown.
 */
async function deleteOrRefusal(graph: GraphClient, path: string): Promise<string | undefined> {
  try {
    await graph.request({
      method: 'DELETE',
      path,
      expect: [204, 404],
      permission: GRAPH_PERMISSIONS.deleteApplication,
    });
    return undefined;
  } catch (error: unknown) {
    if (error instanceof RestError && error.status === 403) return error.message;
    throw error;
  }
}

/** Whether the application's service principal still exists; true when Graph cannot say. */
async function stillThere(
  graph: GraphClient,
  context: HookContext,
  appId: string,
): Promise<boolean> {
  try {
    return (
      (await findServicePrincipal(graph, appId, GRAPH_PERMISSIONS.deleteApplication)) !== undefined
    );
  } catch (error: unknown) {
    context.warn(
      `Could not look for the service principal of ${appId}: ${ensureError(error).message}`,
    );
    return true;
  }
}

/**
 * predown: deletes the Function App's service principal and app registration, and only those:
 * the registration is found by this environment's uniqueName and must match the object ids the
 * environment stored. Both are then purged from deleted items, so that `azd up` with the same
 * environment name can create the registration again at once.
 */
export async function predown(context: HookContext): Promise<PredownResult> {
  const settings = requireValues(context.values, 'predown', [
    'AZURE_ENV_NAME',
    'AZURE_SUBSCRIPTION_ID',
  ]);
  const uniqueName = applicationUniqueName(settings.AZURE_ENV_NAME, settings.AZURE_SUBSCRIPTION_ID);
  const storedAppId = optionalValue(context.values, 'API_APP_OBJECT_ID');
  const storedSpId = optionalValue(context.values, 'API_SP_OBJECT_ID');
  const graph = await graphFor(context, 'predown');

  const app = await findApplication(graph, uniqueName, GRAPH_PERMISSIONS.deleteApplication);
  if (!app) {
    context.log(`No app registration ${uniqueName}: nothing to delete.`);
    try {
      return { deleted: [], purged: await purgeLeftovers(graph, context, uniqueName) };
    } catch (error: unknown) {
      context.warn(
        `Could not look for this environment's deleted objects: ${ensureError(error).message}`,
      );
      return { deleted: [], purged: [] };
    }
  }
  if (app.uniqueName !== uniqueName) {
    throw notOurs(
      `Microsoft Graph returned ${app.id} for ${uniqueName}, but its uniqueName differs.`,
    );
  }
  if (storedAppId && !sameId(app.id, storedAppId)) {
    throw notOurs(
      `The app registration ${uniqueName} has object id ${app.id}, but this environment stored ` +
        `API_APP_OBJECT_ID=${storedAppId}.`,
    );
  }
  const sp = await findServicePrincipal(graph, app.appId, GRAPH_PERMISSIONS.deleteApplication);
  if (sp && storedSpId && !sameId(sp.id, storedSpId)) {
    throw notOurs(
      `The service principal of ${uniqueName} has object id ${sp.id}, but this environment stored ` +
        `API_SP_OBJECT_ID=${storedSpId}.`,
    );
  }

  const appDescription = `App registration ${uniqueName} (appId ${app.appId})`;
  const deleted: string[] = [];
  const spRefused =
    sp !== undefined &&
    (await deleteOrRefusal(graph, `/v1.0/servicePrincipals/${encodeURIComponent(sp.id)}`)) !==
      undefined;
  if (sp && !spRefused) {
    deleted.push(sp.id);
    context.log(`Deleted service principal ${sp.id}.`);
  }
  const appRefusal = await deleteOrRefusal(
    graph,
    `/v1.0/applications/${encodeURIComponent(app.id)}`,
  );
  const appDeleted = appRefusal === undefined;
  if (appDeleted) {
    deleted.push(app.id);
    context.log(`Deleted app registration ${uniqueName} (appId ${app.appId}).`);
  } else {
    context.warn(
      `${appDescription} was not deleted. ${appRefusal} ${byHand.application(app.appId)} ` +
        '`azd down` goes on with the Azure resources.',
    );
  }
  if (sp && spRefused) {
    // The refusal may be of the service principal alone (it has owners of its own); deleting
    // the registration may still have removed it, so look before telling anyone to.
    const left = appDeleted ? await stillThere(graph, context, app.appId) : true;
    if (left) {
      context.warn(
        `Service principal ${sp.id} was not deleted: Microsoft Graph refused (403); deleting it needs ` +
          `${SERVICE_PRINCIPAL_DELETERS}. ${byHand.servicePrincipal(sp.id)} ` +
          '`azd down` goes on with the Azure resources.',
      );
    } else {
      deleted.unshift(sp.id);
      context.log(`Service principal ${sp.id} was deleted with its app registration.`);
    }
  }

  const purged: string[] = [];
  if (
    sp &&
    deleted.includes(sp.id) &&
    (await purge(graph, context, sp.id, `Service principal ${sp.id}`))
  ) {
    purged.push(sp.id);
  }
  if (
    deleted.includes(app.id) &&
    (await purge(graph, context, app.id, `App registration ${uniqueName} (${app.id})`))
  ) {
    purged.push(app.id);
  }
  return { deleted, purged };
}
