/**
 * The `@azure/functions-core` module, as the Functions Node.js worker provides it. The worker is
 * what loads the app in Azure: it intercepts `require('@azure/functions-core')` and answers with its
 * own API (azure-functions-nodejs-worker, src/setupCoreModule.ts), and @azure/functions registers
 * every trigger through that API's `registerFunction(metadata, callback)` (azure-functions-nodejs-
 * library, src/app.ts). The built-in host does the same, so it serves what the app registered with
 * the library, the way Azure does, and the app keeps no list of its triggers for the host's sake.
 */
import Module from 'node:module';

/** One HTTP trigger, read from the metadata @azure/functions sends. */
export interface CoreRegistration {
  readonly name: string;
  readonly methods: readonly string[];
  readonly route: string;
  readonly handler: (...args: unknown[]) => unknown;
}

interface Binding {
  type?: unknown;
  direction?: unknown;
  methods?: unknown;
  route?: unknown;
}

class Disposable {
  constructor(private callback: (() => void) | undefined) {}
  dispose(): void {
    this.callback?.();
    this.callback = undefined;
  }
}

/** Where the registrations of the app being loaded go; undefined outside `collectRegistrations`. */
let collecting: CoreRegistration[] | undefined;
let installed = false;

const coreApi = {
  version: '4.0.0-local',
  hostVersion: '4.0.0-local',
  Disposable,
  setProgrammingModel(): void {
    // The programming model turns RPC messages into HttpRequest objects; the built-in host builds
    // those itself, so the model is not needed.
  },
  registerHook(): Disposable {
    return new Disposable(undefined);
  },
  registerFunction(
    metadata: { name?: unknown; bindings?: unknown },
    callback: unknown,
  ): Disposable {
    const name = typeof metadata.name === 'string' ? metadata.name : '';
    const bindings = Object.values((metadata.bindings ?? {}) as Record<string, Binding>);
    const trigger = bindings.find((binding) => binding.direction === 'in');
    if (!collecting) throw new Error(`Function "${name}" was registered outside app loading.`);
    if (trigger?.type !== 'httpTrigger') {
      throw new Error(
        `Function "${name}" is not an HTTP trigger; the built-in host serves HTTP only.`,
      );
    }
    // The worker refuses a second function of the same name (src/coreApi/registerFunction.ts).
    if (collecting.some((registration) => registration.name === name)) {
      throw new Error(`A function with the name "${name}" has already been registered.`);
    }
    collecting.push({
      name,
      methods: Array.isArray(trigger.methods) ? trigger.methods.map(String) : ['GET', 'POST'],
      // The Functions host routes a trigger without a route by its name.
      route: typeof trigger.route === 'string' ? trigger.route : name,
      handler: callback as CoreRegistration['handler'],
    });
    return new Disposable(undefined);
  },
};

function install(): void {
  if (installed) return;
  installed = true;
  type Require = (this: unknown, id: string) => unknown;
  const prototype = Module.prototype as unknown as { require: Require };
  prototype.require = new Proxy(prototype.require, {
    apply(target, thisArg, args: [string]) {
      return args[0] === '@azure/functions-core' ? coreApi : Reflect.apply(target, thisArg, args);
    },
  });
}

/** Runs `load` (which requires the app's files) and returns the triggers it registered. */
export function collectRegistrations(load: () => void): CoreRegistration[] {
  install();
  const registrations: CoreRegistration[] = [];
  collecting = registrations;
  try {
    load();
  } finally {
    collecting = undefined;
  }
  return registrations;
}
