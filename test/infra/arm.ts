/**
 * A small, strict stand-in for Azure Resource Manager that "deploys" a compiled template offline:
 * it validates the parameters, evaluates every template expression (module parameters, variables,
 * user-defined functions, `reference()` of module outputs and of resources) and returns each
 * resource with its final values. Runtime-only values (principal ids, host names, endpoints) are
 * fake but deterministic and can be looked up with {@link SimulatedDeployment.runtime}, so tests can
 * check wiring ("the allowed caller is API Management's identity") and not only literals.
 *
 * A resource or module whose `condition` is false is not deployed, and a reference to it throws, as
 * in ARM. Anything it does not understand (an unknown function, a copy loop, a reference to
 * a resource it cannot find) throws, so that a template change can never pass unnoticed.
 */
import { Simulator } from './arm/simulator';
import { TemplateError, isObject, type Json, type JsonObject } from './arm/model';
import type { SimulatedDeployment, SimulationContext } from './arm/model';

export {
  TemplateError,
  fakeGuid,
  type Json,
  type SimulatedDeployment,
  type SimulatedResource,
  type SimulationContext,
} from './arm/model';

/** "Deploys" `template` with `parameters` (as in main.parameters.json, after azd's substitution). */
export function simulateDeployment(
  template: unknown,
  parameters: Readonly<Record<string, Json>>,
  context: SimulationContext,
): SimulatedDeployment {
  if (!isObject(template as Json)) throw new TemplateError('The template is not a JSON object');
  return new Simulator(context).deploy(template as JsonObject, parameters);
}
