// What the bundle of the auth layer gives jwks-rsa as `debug` (scripts/build/bundle.mjs). jwks-rsa
// 4.1.0 makes its logger with `require('debug')('jwks')` when it loads and calls it, nothing else
// (src/JwksClient.js, src/wrappers/cache.js and rateLimit.js). Loading debug reads every
// environment variable for its options (about 4 ms of a new instance's start, measured in pairs);
// and without DEBUG set, debug enables nothing (src/node.js `load`, src/common.js `enable`), so its
// loggers write nothing. So: with DEBUG set, this is debug itself (bundled, and loaded only then);
// without it, a logger that writes nothing, as debug's would.
// test/build/debug-for-jwks-rsa.test.ts holds both cases to debug's own behaviour.
'use strict';

function silent(namespace) {
  const logger = () => undefined;
  logger.namespace = namespace;
  logger.enabled = false;
  return logger;
}

module.exports = process.env.DEBUG ? require('../../node_modules/debug/src/index.js') : silent;
