import { policyElement } from './element';

/**
 * `set-backend-service` (learn.microsoft.com/azure/api-management/set-backend-service-policy),
 * by `backend-id` only: the backends `service/backends` in infra/ defines.
 */
export default policyElement<{ readonly backendId: string }>({
  name: 'set-backend-service',
  sections: ['inbound', 'backend'],
  attributes: ['backend-id'],
  parse(element, attributes, { reader, backendIds }) {
    const backendId = reader.required(element, attributes, 'backend-id').trim();
    reader.noChildren(element);
    if (!backendIds.includes(backendId)) {
      reader.fail(
        'unknown_backend',
        element,
        `backend-id "${backendId}" is not a backend the local gateway knows (known: ${backendIds.join(', ')}).`,
      );
    }
    return { backendId };
  },
  execute({ backendId }, { state, services }) {
    state.backendUrl = services.backends[backendId];
  },
});
