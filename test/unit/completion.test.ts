import {describe, expect, it} from 'vitest'

import {planCompletion, renderCompletion, type CompletionCommand} from '../../src/lib/completion.js'

const global = {
  namespace: {name: 'namespace', char: 'n', type: 'option' as const},
  context: {name: 'context', type: 'option' as const},
  output: {name: 'output', char: 'o', type: 'option' as const},
  verbose: {name: 'verbose', type: 'boolean' as const},
}
const commands: CompletionCommand[] = [
  {id: 'proxy-config:cluster', aliases: ['pc:cluster', 'pc:c', 'proxy-config:clusters'], flags: {...global, port: {name: 'port', type: 'option'}, file: {name: 'file', char: 'f', type: 'option'}}, args: [{name: 'target'}]},
  {id: 'proxy-config:route', aliases: ['pc:r', 'pc:route'], flags: global, args: [{name: 'target'}]},
  {id: 'authz', aliases: [], flags: global, args: [{name: 'target'}]},
  {id: 'authz:check', aliases: [], flags: global, args: [{name: 'target'}]},
  {id: 'istiod', aliases: [], flags: {...global, 'istio-namespace': {name: 'istio-namespace', char: 'i', type: 'option'}}, args: [{name: 'endpoint', options: ['syncz', 'adsz']}]},
  {id: '__complete', aliases: [], hidden: true, flags: {}, args: []},
]

describe('planCompletion', () => {
  it('offers canonical command words, also under an alias prefix, and never hidden commands', () => {
    expect(planCompletion(commands, ['']).candidates).toEqual(['authz', 'istiod', 'proxy-config'])
    expect(planCompletion(commands, ['pc', '']).candidates).toEqual(['cluster', 'route'])
    expect(planCompletion(commands, ['pc', 'c']).candidates).toEqual(['cluster'])
    expect(planCompletion(commands, ['nope', '']).candidates).toEqual([])
  })

  it('a command that is also a topic offers its subcommands with its targets', () => {
    const plan = planCompletion(commands, ['authz', ''])
    expect(plan).toMatchObject({command: 'authz', candidates: ['check'], live: 'targets'})
    expect(plan.trailing).toContain('deploy/')
  })

  it('targets: pods from the cluster, kinds known; a typed kind asks for its workloads only', () => {
    expect(planCompletion(commands, ['pc', 'c', '-n', 'shop', ''])).toMatchObject({command: 'proxy-config:cluster', live: 'targets', kube: {namespace: 'shop'}, trailing: ['deploy/', 'svc/', 'sts/', 'ds/', 'rs/', 'job/', 'pod/']})
    expect(planCompletion(commands, ['pc', 'c', '--namespace=shop', '--context', 'prod', 'deploy/w'])).toMatchObject({live: 'targets', trailing: [], kube: {namespace: 'shop', context: 'prod'}})
    // The target is taken: the next word has nothing to complete.
    const taken = planCompletion(commands, ['pc', 'c', 'pod-1', ''])
    expect(taken.candidates).toEqual([])
    expect(taken.live).toBeUndefined()
  })

  it('flag values: options, -o from the command, namespaces, contexts, files', () => {
    expect(planCompletion(commands, ['istiod', 's']).candidates).toEqual(['syncz'])
    expect(planCompletion(commands, ['pc', 'r', '-o', ''])).toMatchObject({candidates: [], needsOutputFormats: true})
    expect(planCompletion([{...commands[1], outputFormats: ['short', 'json']}], ['proxy-config', 'route', '-o', 'j']).candidates).toEqual(['json'])
    expect(planCompletion(commands, ['istiod', '-i', ''])).toMatchObject({live: 'namespaces'})
    expect(planCompletion(commands, ['pc', 'r', '--context', ''])).toMatchObject({live: 'contexts'})
    expect(planCompletion(commands, ['pc', 'c', '-f', ''])).toMatchObject({files: true, candidates: []})
    const port = planCompletion(commands, ['pc', 'c', '--port', ''])
    expect(port).toMatchObject({files: false, candidates: []})
    expect(port.live).toBeUndefined()
  })

  it('flag names: the command\'s own, without those given (a boolean takes no value)', () => {
    const plan = planCompletion(commands, ['pc', 'c', '--verbose', 'pod-1', '--port', '80', '--'])
    expect(plan.candidates).toEqual(['--context', '--file', '--help', '--namespace', '--output'])
    // After `--` every word is an argument.
    expect(planCompletion(commands, ['pc', 'c', '--', '-x']).candidates).toEqual([])
  })
})

describe('renderCompletion', () => {
  it('ends with cobra\'s directive: no file names, plus no space for a lone kind prefix; files when asked', () => {
    expect(renderCompletion(['a', 'b', 'a'], false)).toBe('a\nb\n:4\n')
    expect(renderCompletion(['deploy/'], false)).toBe('deploy/\n:6\n')
    expect(renderCompletion([], true)).toBe(':0\n')
  })
})
