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
import { retryWhile } from '../shared/rest';

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

  const deleted: string[] = [];
  if (sp) {
    await graph.request({
      method: 'DELETE',
      path: `/v1.0/servicePrincipals/${encodeURIComponent(sp.id)}`,
      expect: [204, 404],
      permission: GRAPH_PERMISSIONS.deleteApplication,
    });
    deleted.push(sp.id);
    context.log(`Deleted service principal ${sp.id}.`);
  }
  await graph.request({
    method: 'DELETE',
    path: `/v1.0/applications/${encodeURIComponent(app.id)}`,
    expect: [204, 404],
    permission: GRAPH_PERMISSIONS.deleteApplication,
  });
  deleted.push(app.id);
  context.log(`Deleted app registration ${uniqueName} (appId ${app.appId}).`);

  const purged: string[] = [];
  if (sp && (await purge(graph, context, sp.id, `Service principal ${sp.id}`))) {
    purged.push(sp.id);
  }
  if (await purge(graph, context, app.id, `App registration ${uniqueName} (${app.id})`)) {
    purged.push(app.id);
  }
  return { deleted, purged };
}
