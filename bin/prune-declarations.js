#!/usr/bin/env node
// Part of `npm run build`: keeps only the declarations an embedder's compiler can reach, those of
// the package's `exports` and what they import; the CLI's, the daemon's and other internal modules'
// declarations are removed from dist/ (they would only make the package bigger).
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const dist = join(root, 'dist')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const entries = Object.values(pkg.exports).flatMap((target) => typeof target === 'object' && target.types != null ? [join(root, target.types)] : [])

/** Relative modules a declaration file refers to: imports, re-exports and `import("…")` types. */
const referenced = (file) => [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)]
  .map((m) => normalize(join(dirname(file), m[1].replace(/\.js$/, '.d.ts'))))
  .filter((path) => existsSync(path))

const reachable = new Set()
const pending = [...entries]
while (pending.length > 0) {
  const file = pending.pop()
  if (reachable.has(file)) continue
  reachable.add(file)
  pending.push(...referenced(file))
}

function * declarations (dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield * declarations(path)
    else if (name.endsWith('.d.ts')) yield path
  }
}

let removed = 0
for (const file of declarations(dist)) {
  if (reachable.has(file)) continue
  rmSync(file)
  removed++
}
if (process.argv.includes('--verbose')) console.log(`kept ${reachable.size} declaration files, removed ${removed} (${relative(root, dist)})`)
