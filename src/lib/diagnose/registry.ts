import {accessLogCheck} from './checks/access-log.js'
import {authzCheck} from './checks/authz.js'
import {certificatesCheck} from './checks/certificates.js'
import {endpointsCheck} from './checks/endpoints.js'
import {logLevelsCheck} from './checks/log-levels.js'
import {mtlsCheck} from './checks/mtls.js'
import {readinessCheck} from './checks/readiness.js'
import {rejectedConfigCheck} from './checks/rejected-config.js'
import {routesCheck} from './checks/routes.js'
import {syncCheck} from './checks/sync.js'
import {versionSkewCheck} from './checks/version-skew.js'
import type {Check} from './types.js'

/**
 * Every check, in order of relevance: among findings of the same severity, the one from an
 * earlier check prints first. Causes come before their symptoms (a route to a missing subset
 * before the 503s it produces). Adding a check: one module in checks/ and one line here.
 */
export const CHECKS: readonly Check[] = [
  routesCheck,
  accessLogCheck,
  authzCheck,
  endpointsCheck,
  syncCheck,
  rejectedConfigCheck,
  readinessCheck,
  certificatesCheck,
  mtlsCheck,
  versionSkewCheck,
  logLevelsCheck,
]

export const CHECK_IDS: readonly string[] = CHECKS.map((check) => check.id)
