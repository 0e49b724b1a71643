// docs/schemas/<command>.json: a JSON schema per command, generated from the TypeScript result types
// its --json prints (ts-json-schema-generator). Per command file it finds every exported `*Result`
// type (declared or re-exported) and the type `run()` returns; the schema's root is that return
// type when it is one of them, else any of them.
import {readdirSync, readFileSync} from 'node:fs'
import {join, relative, sep} from 'node:path'

import ts from 'typescript'
import {createFormatter, createParser, createProgram, SchemaGenerator} from 'ts-json-schema-generator'

/** src/commands/proxy-config/cluster.ts -> proxy-config-cluster (the command id, dashes for spaces). */
export function schemaName(commandsDir, file) {
  return relative(commandsDir, file).replace(/\.ts$/, '').split(sep).join('-')
}

function commandFiles(dir) {
  return readdirSync(dir, {withFileTypes: true})
    .flatMap((entry) => (entry.isDirectory() ? commandFiles(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : []))
    .sort()
}

/** Exported `*Result` names of one command file, and the type its `run()` promises. */
export function resultTypesOf(source) {
  const file = ts.createSourceFile('command.ts', source, ts.ScriptTarget.Latest, true)
  const exported = new Set()
  let runType
  const isExported = (node) => node.modifiers?.some((modifier) => modifier.kind === ts.SyntaxKind.ExportKeyword)
  const visit = (node) => {
    if ((ts.isInterfaceDeclaration(node) || ts.isTypeAliasDeclaration(node)) && isExported(node)) exported.add(node.name.text)
    if (ts.isExportDeclaration(node) && node.exportClause && ts.isNamedExports(node.exportClause)) {
      for (const element of node.exportClause.elements) exported.add(element.name.text)
    }
    if (ts.isMethodDeclaration(node) && node.name.getText(file) === 'run' && node.type && ts.isTypeReferenceNode(node.type) && node.type.typeName.getText(file) === 'Promise') {
      const inner = node.type.typeArguments?.[0]
      if (inner && ts.isTypeReferenceNode(inner)) runType = inner.typeName.getText(file)
    }
    ts.forEachChild(node, visit)
  }
  visit(file)
  const results = [...exported].filter((name) => /Result$/.test(name)).sort()
  return {results, root: runType !== undefined && exported.has(runType) ? runType : undefined}
}

/** Every command's schema, by file name (without .json), in a stable order and form. */
export function generateResultSchemas(root) {
  const commandsDir = join(root, 'src', 'commands')
  const files = commandFiles(commandsDir)
  const config = {tsconfig: join(root, 'tsconfig.json'), expose: 'export', topRef: true, jsDoc: 'extended', skipTypeCheck: true, additionalProperties: true, sortProps: true, path: join(commandsDir, '**', '*.ts')}
  const program = createProgram(config)
  const schemas = new Map()
  for (const file of files) {
    const {results, root: runType} = resultTypesOf(readFileSync(file, 'utf8'))
    const roots = runType ? [runType] : results
    if (roots.length === 0) continue
    const generator = new SchemaGenerator(program, createParser(program, {...config, path: file}), createFormatter(config), {...config, path: file})
    const definitions = {}
    for (const name of new Set([...roots, ...results])) Object.assign(definitions, generator.createSchema(name).definitions)
    const name = schemaName(commandsDir, file)
    const command = relative(commandsDir, file).replace(/\.ts$/, '').split(sep).join(' ')
    const top = roots.length === 1 ? {$ref: `#/definitions/${roots[0]}`} : {anyOf: roots.map((type) => ({$ref: `#/definitions/${type}`}))}
    schemas.set(name, {
      $schema: 'http://json-schema.org/draft-07/schema#',
      $id: `meshdbg/${name}.json`,
      title: `meshdbg ${command}: the typed result (--json, -o json)`,
      ...top,
      definitions: sortKeys(definitions),
    })
  }
  return schemas
}

function sortKeys(object) {
  return Object.fromEntries(Object.entries(object).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}
