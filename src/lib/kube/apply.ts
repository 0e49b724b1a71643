import {parseAllDocuments} from 'yaml'

import type {RunContext} from '../context.js'
import {badDataError, MeshdbgError} from '../errors.js'
import {callKube, getKubeJson} from './index.js'

interface ManifestObject {
  apiVersion?: string
  kind?: string
  metadata?: {name?: string; namespace?: string; resourceVersion?: string}
}

interface ApiResourceList {
  resources?: Array<{name: string; kind: string; namespaced: boolean}>
}

/** The objects of a multi-document YAML manifest; empty documents are skipped, as kubectl does. */
export function parseManifests(text: string, origin: string): ManifestObject[] {
  const objects: ManifestObject[] = []
  for (const document of parseAllDocuments(text)) {
    if (document.errors.length > 0) throw badDataError(`${origin}: not valid YAML: ${document.errors[0].message.split('\n')[0]}`)
    const value = document.toJS() as ManifestObject | null
    if (value === null || value === undefined) continue
    if (typeof value !== 'object' || !value.apiVersion || !value.kind || !value.metadata?.name) {
      throw badDataError(`${origin}: every document needs apiVersion, kind and metadata.name`)
    }
    objects.push(value)
  }
  return objects
}

/** The REST collection of an object, from API discovery (as kubectl finds it): `/apis/<group>/<version>/namespaces/<ns>/<plural>`. */
async function collectionPath(ctx: RunContext, object: ManifestObject, defaultNamespace: string): Promise<{path: string; resource: string}> {
  const apiVersion = object.apiVersion!
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`
  const list = await getKubeJson<ApiResourceList>(ctx, `API resources of ${apiVersion}`, base)
  const found = (list.resources ?? []).find((resource) => resource.kind === object.kind && !resource.name.includes('/'))
  if (!found) throw new MeshdbgError('not-found', `the API server does not serve kind ${object.kind} in ${apiVersion}`)
  const group = apiVersion.includes('/') ? apiVersion.split('/')[0] : ''
  const namespace = object.metadata?.namespace ?? defaultNamespace
  const path = found.namespaced ? `${base}/namespaces/${encodeURIComponent(namespace)}/${found.name}` : `${base}/${found.name}`
  const kind = object.kind!.toLowerCase()
  return {path, resource: group ? `${kind}.${group}` : kind}
}

/**
 * Creates each object, or replaces it when it exists (keeping its resourceVersion, so a
 * concurrent change is a conflict rather than lost), and returns kubectl's lines:
 * `destinationrule.networking.istio.io/catalog created` / `configured`.
 */
export async function applyManifests(ctx: RunContext, objects: readonly ManifestObject[], defaultNamespace: string): Promise<string[]> {
  const lines: string[] = []
  for (const object of objects) {
    const {path, resource} = await collectionPath(ctx, object, defaultNamespace)
    const name = object.metadata!.name!
    const itemPath = `${path}/${encodeURIComponent(name)}`
    let existing: ManifestObject | undefined
    try {
      existing = await getKubeJson<ManifestObject>(ctx, `${resource} "${name}"`, itemPath)
    } catch (error) {
      if (!(error instanceof MeshdbgError && error.kind === 'not-found')) throw error
    }
    if (existing === undefined) {
      await callKube(ctx, `${resource} "${name}"`, (session) => session.sendJson('POST', path, object))
      lines.push(`${resource}/${name} created`)
    } else {
      const body = {...object, metadata: {...object.metadata, resourceVersion: existing.metadata?.resourceVersion}}
      await callKube(ctx, `${resource} "${name}"`, (session) => session.sendJson('PUT', itemPath, body))
      lines.push(`${resource}/${name} configured`)
    }
  }
  return lines
}
