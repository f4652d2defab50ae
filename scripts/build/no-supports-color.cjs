// jwks-rsa logs through `debug`, which tries `require('supports-color')` for colours and goes on
// without it (debug src/node.js). The bundle holds this empty stand-in instead, so that the app
// requires nothing that its runtime dependencies do not provide.
module.exports = {};
