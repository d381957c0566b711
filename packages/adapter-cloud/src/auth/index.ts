export { API_KEY_PREFIX, apiKeyRole, generateApiKey } from './api-key.js';
export {
  type ApiKeyCheck,
  ApiKeyFileError,
  type ApiKeyInfo,
  ApiKeyStore,
  type ApiKeyStoreOptions,
  type CreatedApiKey,
} from './api-key-store.js';
export { AuthConfigError, AuthError, type AuthErrorCode } from './auth-error.js';
export { Authenticator, type AuthenticatorOptions, readCredential } from './authenticator.js';
export { applyClaimMap, type ClaimMap, checkClaimMap } from './claim-map.js';
export {
  checkDatabaseBinding,
  DATABASE_AUDIENCE_PREFIX,
  databaseAudience,
} from './database-binding.js';
export { type DevTokenOptions, issueDevToken } from './dev-token.js';
export { type EnsureAdminKeyOptions, ensureAdminKey } from './ensure-admin-key.js';
export { checkJwtConfig, hasTokenKeySource, tokenVerifierFromConfig } from './jwt-config.js';
export {
  type ApiKeyPrincipal,
  type ApiKeyRole,
  type Principal,
  requireAdmin,
  type UserPrincipal,
} from './principal.js';
export { REMOTE_JWKS_DEFAULTS, RemoteJwks, type RemoteJwksOptions } from './remote-jwks.js';
export {
  type DatabaseTokenRules,
  DEFAULT_CLOCK_LEEWAY_SECONDS,
  TokenVerifier,
  type TokenVerifierOptions,
} from './token-verifier.js';
export { parseTtl, TtlParseError } from './ttl.js';
export { UserRevocations, UserRevocationsFileError } from './user-revocations.js';
