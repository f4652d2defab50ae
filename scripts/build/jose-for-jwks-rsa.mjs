// What the bundle of functions/auth/libraries.ts gives jwks-rsa as `jose` (package.json `build`):
// the two functions it calls (jwks-rsa 4.1.0 src/utils.js: importJWK, exportSPKI). jwks-rsa
// requires the whole of jose, whose loading a new instance would otherwise pay for.
export { importJWK } from '../../node_modules/jose/dist/webapi/key/import.js';
export { exportSPKI } from '../../node_modules/jose/dist/webapi/key/export.js';
