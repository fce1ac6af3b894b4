#!/usr/bin/env node
// The house's layering rules, checked on every source file (docs/architecture.md, "Layers"):
//   machines/  imports only xstate and other machines/ files
//   actors/    never imports runtime/
//   no source file is longer than 300 lines
//   machines/ cast no event (`event as …`): they narrow with eventOf/assertEvent, `'x' in event` or params
//   product code (actors/, machines/, runtime/, bin/) ignores no error silently: a `.catch(() => {})`
//   has a comment on its line or the line before saying why, and an empty `catch {}` block is refused
// Prints each violation as FILE: reason and exits 1 when there is any. `--json` prints them as JSON.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const MAX_LINES = 300
const sourceDirs = ['actors', 'machines', 'runtime', 'bin', 'bench', 'test']
const productDirs = new Set(['actors', 'machines', 'runtime', 'bin'])

/** Silent catches: a `.catch(() => {})` with no comment on its line or the one before, and empty `catch {}` blocks. */
function silentCatches (text) {
  const found = []
  const lines = text.split('\n')
  lines.forEach((line, index) => {
    const before = (lines[index - 1] ?? '').trim()
    if (/\.catch\(\(\) => \{\s*\}\)/.test(line) && !line.includes('//') && !/^(\/\/|\*)/.test(before)) found.push(index + 1)
  })
  for (const m of text.matchAll(/catch\s*(\(\s*\w*\s*\))?\s*\{\s*\}/g)) found.push(text.slice(0, m.index).split('\n').length)
  return found
}

function * sourceFiles (dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield * sourceFiles(path)
    else if (/\.(ts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) yield path
  }
}

/** Every module a file imports: static imports and exports, and dynamic import() of a literal. */
function importsOf (text) {
  const found = []
  const statement = /^\s*(import|export)\s+(type\s+)?[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm
  for (const m of text.matchAll(statement)) found.push({ specifier: m[3] ?? m[4] })
  for (const m of text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push({ specifier: m[1] })
  return found
}

/** The project directory a relative import lands in (actors, machines, runtime…), or undefined for a package. */
function layerOf (root, file, specifier) {
  if (!specifier.startsWith('.')) return undefined
  return relative(root, resolve(dirname(file), specifier)).split('/')[0]
}

/** Every violation under `root` (the project by default), as `FILE: reason` lines. */
export function checkLayers (root = projectRoot) {
  const problems = []
  for (const dir of sourceDirs) {
    if (!existsSync(join(root, dir))) continue
    for (const file of sourceFiles(join(root, dir))) {
      const name = relative(root, file)
      const text = readFileSync(file, 'utf8')
      const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
      if (lines > MAX_LINES) problems.push(`${name}: ${lines} lines (at most ${MAX_LINES}: split it by what it does)`)
      const layer = name.split('/')[0]
      if (productDirs.has(layer) && name !== 'bin/check-layers.js') {
        for (const line of silentCatches(text)) problems.push(`${name}:${line}: an error ignored without a word (log it, or say in a comment why nothing is lost)`)
      }
      for (const { specifier } of importsOf(text)) {
        const target = layerOf(root, file, specifier)
        if (layer === 'machines' && specifier !== 'xstate' && target !== 'machines') {
          problems.push(`${name}: imports ${specifier} (machines import only xstate and machines/; the runtime provides their effects)`)
        }
        if (layer === 'actors' && target === 'runtime') problems.push(`${name}: imports ${specifier} (actors never import runtime/)`)
      }
      if (layer === 'machines') {
        text.split('\n').forEach((line, index) => {
          if (/\b(event|fact|event\.output)\)? as [\w{]|as unknown as \w*Event\b/.test(line)) problems.push(`${name}:${index + 1}: casts an event (narrow it: eventOf(event, type), 'field' in event, or action params)`)
        })
      }
    }
  }
  return problems
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const problems = checkLayers()
  if (process.argv.includes('--json')) console.log(JSON.stringify(problems))
  else for (const problem of problems) console.log(problem)
  if (problems.length > 0) {
    if (!process.argv.includes('--json')) console.log(`${problems.length} layering problem(s)`)
    process.exitCode = 1
  } else if (!process.argv.includes('--json')) {
    console.log('layers ok: machines/ import only xstate and machines/, actors/ free of runtime/, every file at most 300 lines, no silent catch, no event cast in machines/')
  }
}
