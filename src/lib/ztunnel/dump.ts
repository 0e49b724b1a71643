/**
 * ztunnel's /config_dump, every shape from Istio 1.21 to the newest, read into one model. istioctl's
 * reader (istioctl/pkg/writer/ztunnel/configdump/configdump.go, api.go) is Go's encoding/json, so
 * keys are matched case-insensitively (`workloadState` and `workloadstate` are one key, the last
 * one in the object wins), a null string is "" and each store may be a list or a map whose values
 * are taken. The shapes it meets:
 * - 1.21: `by_addr`, `by_vip` maps (plus `by_uid`, `workload_to_services`, unused); certificates
 *   with `ca_cert`, `cert_chain` and snake_case `serial_number`, `valid_from`, `expiration_time`;
 * - 1.22: `workloads`, `services`, `policies` maps, camelCase certificates (`certChain` holds the
 *   root last);
 * - 1.23 on: the same stores as lists sorted by ztunnel; 1.26: `rootCerts` beside `certChain`;
 *   `workloadState` (connections) when ztunnel runs in-pod; 1.30: `cidrVips` on services.
 * Every original object is kept (`raw`) for -o json|yaml, which print ztunnel's own data.
 */
import {MeshdbgError} from '../errors.js'
import type {InputText} from '../input.js'

export type Json = null | boolean | number | string | Json[] | {[key: string]: Json}
type JsonObject = {[key: string]: Json}

export interface ZtunnelWorkload {
  uid: string
  name: string
  namespace: string
  node: string
  workloadIps: string[]
  hostname: string
  protocol: string
  status: string
  /** `waypoint.destination`, absent when the workload has no waypoint. */
  waypointDestination?: string
  raw: Json
}

export interface ZtunnelService {
  name: string
  namespace: string
  hostname: string
  /** `network/ip` addresses (`vips`; `addresses` before 1.22). */
  vips: string[]
  /** workloadUid of each endpoint (a map in every release; a list is read too). */
  endpointWorkloadUids: string[]
  waypointDestination?: string
  raw: Json
}

export interface ZtunnelPolicy {
  name: string
  namespace: string
  action: string
  scope: string
  raw: Json
}

export interface ZtunnelCert {
  serialNumber: string
  validFrom: string
  expirationTime: string
}

export interface ZtunnelCertificate {
  identity: string
  state: string
  certChain: ZtunnelCert[]
  rootCerts: ZtunnelCert[]
  raw: Json
}

export interface ZtunnelConnection {
  src: string
  originalDst: string
  actualDst: string
  protocol: string
}

export interface ZtunnelWorkloadState {
  name: string
  namespace: string
  inbound: ZtunnelConnection[]
  outbound: ZtunnelConnection[]
  raw: Json
}

export interface ZtunnelDump {
  workloads: ZtunnelWorkload[]
  services: ZtunnelService[]
  policies: ZtunnelPolicy[]
  certificates: ZtunnelCertificate[]
  workloadStates: ZtunnelWorkloadState[]
  /** The whole parsed document (`all -o json|yaml`). */
  raw: JsonObject
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * encoding/json's key match: a key equal to the name ignoring case; when several match, the last
 * one in the object is the one Go keeps (each overwrites the field).
 */
export function goField(object: JsonObject, ...names: string[]): Json | undefined {
  const wanted = new Set(names.map((name) => name.toLowerCase()))
  let found: Json | undefined
  for (const key of Object.keys(object)) if (wanted.has(key.toLowerCase())) found = object[key]
  return found
}

class DumpShapeError extends Error {}

function str(object: JsonObject, where: string, ...names: string[]): string {
  const value = goField(object, ...names)
  if (value === undefined || value === null) return ''
  if (typeof value !== 'string') throw new DumpShapeError(`${where}.${names[0]} is a ${jsonKind(value)}, expected a string`)
  return value
}

function strings(object: JsonObject, where: string, ...names: string[]): string[] {
  const value = goField(object, ...names)
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) throw new DumpShapeError(`${where}.${names[0]} is a ${jsonKind(value)}, expected a list`)
  return value.map((item, i) => {
    if (item === null) return ''
    if (typeof item !== 'string') throw new DumpShapeError(`${where}.${names[0]}[${i}] is a ${jsonKind(item)}, expected a string`)
    return item
  })
}

function jsonKind(value: Json): string {
  return value === null ? 'null' : Array.isArray(value) ? 'list' : typeof value === 'object' ? 'object' : typeof value
}

/** istioctl's unmarshalListOrMap: a list as it is, a map's values, nothing for null or absent. */
function listOrMap(value: Json | undefined, where: string): Json[] {
  if (value === undefined || value === null) return []
  if (Array.isArray(value)) return value
  if (isObject(value)) return Object.values(value)
  throw new DumpShapeError(`${where} is a ${jsonKind(value)}, expected a list or a map`)
}

function objects(value: Json | undefined, where: string): JsonObject[] {
  return listOrMap(value, where).map((item, i) => {
    if (item === null) return {}
    if (!isObject(item)) throw new DumpShapeError(`${where}[${i}] is a ${jsonKind(item)}, expected an object`)
    return item
  })
}

function destination(object: JsonObject, where: string, name: string): string | undefined {
  const value = goField(object, name)
  if (value === undefined || value === null) return undefined
  if (!isObject(value)) throw new DumpShapeError(`${where}.${name} is a ${jsonKind(value)}, expected an object`)
  return str(value, `${where}.${name}`, 'destination')
}

function readWorkload(object: JsonObject, where: string): ZtunnelWorkload {
  return {
    uid: str(object, where, 'uid'),
    name: str(object, where, 'name'),
    namespace: str(object, where, 'namespace'),
    node: str(object, where, 'node'),
    workloadIps: strings(object, where, 'workloadIps', 'workload_ips'),
    hostname: str(object, where, 'hostname'),
    protocol: str(object, where, 'protocol'),
    status: str(object, where, 'status'),
    waypointDestination: destination(object, where, 'waypoint'),
    raw: object,
  }
}

function readService(object: JsonObject, where: string): ZtunnelService {
  const endpoints = goField(object, 'endpoints')
  const endpointWorkloadUids = objects(endpoints, `${where}.endpoints`).map((endpoint, i) => str(endpoint, `${where}.endpoints[${i}]`, 'workloadUid', 'workload_uid'))
  return {
    name: str(object, where, 'name'),
    namespace: str(object, where, 'namespace'),
    hostname: str(object, where, 'hostname'),
    vips: goField(object, 'vips') !== undefined ? strings(object, where, 'vips') : strings(object, where, 'addresses'),
    endpointWorkloadUids,
    waypointDestination: destination(object, where, 'waypoint'),
    raw: object,
  }
}

function readPolicy(object: JsonObject, where: string): ZtunnelPolicy {
  return {
    name: str(object, where, 'name'),
    namespace: str(object, where, 'namespace'),
    action: str(object, where, 'action'),
    scope: str(object, where, 'scope'),
    raw: object,
  }
}

function readCerts(object: JsonObject, where: string, ...names: string[]): ZtunnelCert[] {
  return objects(goField(object, ...names) ?? null, `${where}.${names[0]}`).map((cert, i) => {
    const at = `${where}.${names[0]}[${i}]`
    return {
      serialNumber: str(cert, at, 'serialNumber', 'serial_number'),
      validFrom: str(cert, at, 'validFrom', 'valid_from'),
      expirationTime: str(cert, at, 'expirationTime', 'expiration_time'),
    }
  })
}

function readCertificate(object: JsonObject, where: string): ZtunnelCertificate {
  return {
    identity: str(object, where, 'identity'),
    state: str(object, where, 'state'),
    certChain: readCerts(object, where, 'certChain', 'cert_chain'),
    // Before 1.22 the CA came separately as ca_cert; from 1.26 as rootCerts. In between the root is
    // the last entry of certChain (the table's "legacy format").
    rootCerts: readCerts(object, where, 'rootCerts', 'root_certs', 'ca_cert'),
    raw: object,
  }
}

function readConnections(object: JsonObject, where: string, name: string): ZtunnelConnection[] {
  return objects(goField(object, name), `${where}.${name}`).map((connection, i) => {
    const at = `${where}.${name}[${i}]`
    return {
      src: str(connection, at, 'src'),
      originalDst: str(connection, at, 'originalDst'),
      actualDst: str(connection, at, 'actualDst'),
      protocol: str(connection, at, 'protocol'),
    }
  })
}

function readWorkloadState(object: JsonObject, where: string): ZtunnelWorkloadState {
  const info = goField(object, 'info')
  const connections = goField(object, 'connections')
  const infoObject = isObject(info) ? info : {}
  const connectionsObject = isObject(connections) ? connections : {}
  return {
    name: str(infoObject, `${where}.info`, 'name'),
    namespace: str(infoObject, `${where}.info`, 'namespace'),
    inbound: readConnections(connectionsObject, `${where}.connections`, 'inbound'),
    outbound: readConnections(connectionsObject, `${where}.connections`, 'outbound'),
    raw: object,
  }
}

/** Parses a ztunnel /config_dump (text as fetched or saved); a wrong document is exit 6. */
export function parseZtunnelDump(input: InputText): ZtunnelDump {
  let document: Json
  try {
    document = JSON.parse(input.text) as Json
  } catch (error) {
    throw new MeshdbgError('bad-data', `${input.origin}: not a ztunnel config dump: ${(error as Error).message}`)
  }
  if (!isObject(document)) throw new MeshdbgError('bad-data', `${input.origin}: not a ztunnel config dump: the document is a ${jsonKind(document)}, not an object`)
  if (Array.isArray(document.configs)) {
    throw new MeshdbgError('bad-data', `${input.origin}: this is an Envoy config dump, not ztunnel's`, {hint: 'use meshdbg proxy-config for Envoy proxies'})
  }
  try {
    return parseDocument(document)
  } catch (error) {
    if (error instanceof DumpShapeError) throw new MeshdbgError('bad-data', `${input.origin}: unusable ztunnel config dump: ${error.message}`)
    throw error
  }
}

function parseDocument(document: JsonObject): ZtunnelDump {
  const workloadStore = goField(document, 'workloads') !== undefined ? goField(document, 'workloads') : goField(document, 'by_addr')
  const serviceStore = goField(document, 'services') !== undefined ? goField(document, 'services') : goField(document, 'by_vip')
  const states = goField(document, 'workloadState')
  if (states !== undefined && states !== null && !isObject(states)) throw new DumpShapeError(`workloadState is a ${jsonKind(states)}, expected a map`)
  return {
    workloads: objects(workloadStore, 'workloads').map((item, i) => readWorkload(item, `workloads[${i}]`)),
    services: objects(serviceStore, 'services').map((item, i) => readService(item, `services[${i}]`)),
    policies: objects(goField(document, 'policies'), 'policies').map((item, i) => readPolicy(item, `policies[${i}]`)),
    certificates: objects(goField(document, 'certificates'), 'certificates').map((item, i) => readCertificate(item, `certificates[${i}]`)),
    workloadStates: objects(states ?? null, 'workloadState').map((item, i) => readWorkloadState(item, `workloadState[${i}]`)),
    raw: document,
  }
}
