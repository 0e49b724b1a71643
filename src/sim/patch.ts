// The three PATCH bodies the apiserver accepts without server-side apply: JSON merge patch
// (RFC 7386, what kubectl apply sends for custom resources), a strategic merge patch (kubectl apply
// on built-in kinds; k8s.io/apimachinery/pkg/util/strategicpatch) and JSON patch (RFC 6902).
type J = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

export class PatchError extends Error {}

const isObject = (v: unknown): v is J => v !== null && typeof v === 'object' && !Array.isArray(v)

/** RFC 7386: objects merge, `null` deletes, everything else (lists included) replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch)
  const out: J = isObject(target) ? {...target} : {}
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k]
    else out[k] = mergePatch(out[k], v)
  }
  return out
}

/**
 * Merge keys of the built-in list fields the simulator stores (from the `patchMergeKey` tags of
 * k8s.io/api/core/v1/types.go). Lists not named here are replaced, as for atomic lists.
 */
const MERGE_KEYS: Record<string, string> = {
  ports: 'port', containers: 'name', initContainers: 'name', env: 'name', volumes: 'name', volumeMounts: 'mountPath',
  ownerReferences: 'uid', imagePullSecrets: 'name', conditions: 'type', endpoints: 'addresses',
}

/** Containers list their ports by containerPort, services by port (same field name, other key). */
function mergeKeyFor(field: string, items: unknown[]): string | undefined {
  if (field === 'ports' && items.some((i) => isObject(i) && 'containerPort' in i)) return 'containerPort'
  return MERGE_KEYS[field]
}

/** A strategic merge patch: merge-patch semantics plus keyed list merges and the `$` directives kubectl emits. */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch)
  if (patch.$patch === 'replace') {
    const {$patch: _p, ...rest} = patch
    return structuredClone(rest)
  }
  if (patch.$patch === 'delete') return undefined
  const out: J = isObject(target) ? {...target} : {}
  const orders: Record<string, unknown[]> = {}
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$setElementOrder/')) {
      orders[k.slice('$setElementOrder/'.length)] = v as unknown[]
      continue
    }
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length)
      out[field] = ((out[field] as unknown[] | undefined) ?? []).filter((x) => !(v as unknown[]).includes(x))
      continue
    }
    if (k === '$retainKeys' || k === '$patch') continue
    if (v === null) {
      delete out[k]
    } else if (Array.isArray(v) && Array.isArray(out[k])) {
      const key = mergeKeyFor(k, [...v, ...(out[k] as unknown[])])
      out[k] = key ? mergeList(out[k] as J[], v as J[], key) : structuredClone(v)
    } else {
      out[k] = strategicMergePatch(out[k], v)
    }
  }
  for (const [field, order] of Object.entries(orders)) {
    const list = out[field] as J[] | undefined
    const key = list && mergeKeyFor(field, list)
    if (!list || !key) continue
    const rank = (item: J) => {
      const i = order.findIndex((o) => isObject(o) && o[key] === item[key])
      return i < 0 ? order.length : i
    }
    out[field] = [...list].sort((a, b) => rank(a) - rank(b))
  }
  return out
}

function mergeList(current: J[], patch: J[], key: string): J[] {
  const out = current.map((x) => ({...x}))
  for (const item of patch) {
    const i = out.findIndex((x) => x[key] === item[key])
    if (item.$patch === 'delete') {
      if (i >= 0) out.splice(i, 1)
    } else if (i >= 0) {
      out[i] = strategicMergePatch(out[i], item) as J
    } else {
      out.push(strategicMergePatch({}, item) as J)
    }
  }
  return out
}

function pointer(path: string): string[] {
  if (path === '') return []
  if (!path.startsWith('/')) throw new PatchError(`invalid JSON pointer "${path}"`)
  return path.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
}

/** RFC 6902 add / remove / replace / test / copy / move. */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new PatchError('json patch must be an array of operations')
  let doc = structuredClone(target)
  const parentOf = (parts: string[]): [J | unknown[], string] => {
    let node: unknown = doc
    for (const p of parts.slice(0, -1)) {
      node = Array.isArray(node) ? node[Number(p)] : isObject(node) ? node[p] : undefined
      if (node === undefined) throw new PatchError(`doc is missing path: /${parts.join('/')}`)
    }
    return [node as J | unknown[], parts[parts.length - 1]]
  }
  const read = (parts: string[]): unknown => parts.reduce<unknown>((n, p) => (Array.isArray(n) ? n[Number(p)] : isObject(n) ? n[p] : undefined), doc)
  const remove = (parts: string[]) => {
    const [parent, last] = parentOf(parts)
    if (Array.isArray(parent)) parent.splice(Number(last), 1)
    else if (last in parent) delete parent[last]
    else throw new PatchError(`unable to remove nonexistent key: ${last}`)
  }
  const add = (parts: string[], value: unknown) => {
    if (parts.length === 0) {
      doc = structuredClone(value)
      return
    }
    const [parent, last] = parentOf(parts)
    if (Array.isArray(parent)) parent.splice(last === '-' ? parent.length : Number(last), 0, structuredClone(value))
    else parent[last] = structuredClone(value)
  }
  for (const op of ops as J[]) {
    const parts = pointer(String(op.path ?? ''))
    switch (op.op) {
      case 'add': add(parts, op.value); break
      case 'remove': remove(parts); break
      case 'replace': remove(parts); add(parts, op.value); break
      case 'test':
        if (JSON.stringify(read(parts)) !== JSON.stringify(op.value)) throw new PatchError(`testing value ${op.path} failed`)
        break
      case 'copy': add(parts, read(pointer(String(op.from)))); break
      case 'move': {
        const value = read(pointer(String(op.from)))
        remove(pointer(String(op.from)))
        add(parts, value)
        break
      }
      default: throw new PatchError(`Unexpected kind: ${String(op.op)}`)
    }
  }
  return doc
}
