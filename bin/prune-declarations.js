#!/usr/bin/env node
// Part of `npm run build`: keeps only the declarations an embedder's compiler can reach, those of
// the package's `exports` and what they import; the CLI's, the daemon's and other internal modules'
// declarations are removed from dist/ (they would only make the package bigger). Likewise only the
// JavaScript the exports and bin/dms-net.js can load stays (every import in dist/ is a literal path;
// build-time tools such as the chart renderer read the TypeScript sources), and with it go modules
// whose source is gone. Files are removed in place, never the whole of dist/: tests that run the CLI
// while `npm pack` rebuilds must not find it missing. The builds are incremental, so a module pruned
// once is not emitted again when it later becomes reachable unchanged: then the build is redone in full.
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { dirname, join, normalize, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const dist = join(root, 'dist')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const entries = Object.values(pkg.exports).flatMap((target) => typeof target === 'object' && target.types != null ? [join(root, target.types)] : [])

/** Relative modules a declaration file refers to: imports, re-exports and `import("…")` types. */
const referenced = (file) => [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)]
  .map((m) => normalize(join(dirname(file), m[1].replace(/\.js$/, '.d.ts'))))
  .filter((path) => path.startsWith(dist))

/** Relative modules a compiled file loads: static and dynamic imports, re-exports. */
const loaded = (file) => [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)]
  .map((m) => normalize(join(dirname(file), m[1])))
  .filter((path) => path.startsWith(dist))

/** Redo a build in full (its incremental state forgotten) when a file it should have written is missing. */
function rebuildIfMissing (files, config, info) {
  const missing = [...files].filter((file) => !existsSync(file))
  if (missing.length === 0) return false
  process.stderr.write(`prune: ${relative(root, missing[0])} is needed but was pruned by an earlier build; building again in full\n`)
  rmSync(join(dist, info), { force: true })
  const result = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, config)], { stdio: 'inherit' })
  if (result.status !== 0) process.exit(result.status ?? 1)
  return true
}

/** Every file reachable from `starts` through `next`. */
function closure (starts, next) {
  const reachable = new Set()
  const pending = [...starts]
  while (pending.length > 0) {
    const file = pending.pop()
    if (reachable.has(file)) continue
    reachable.add(file)
    if (existsSync(file)) pending.push(...next(file))
  }
  return reachable
}

function * files (dir, suffix) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield * files(path, suffix)
    else if (name.endsWith(suffix) && (suffix !== '.js' || !name.endsWith('.d.ts'))) yield path
  }
}

/** Remove the files ending in `suffix` that are not in `keep`, with their source maps. */
function prune (suffix, keep) {
  let removed = 0
  for (const file of [...files(dist, suffix)]) {
    if (keep.has(file)) continue
    rmSync(file)
    rmSync(`${file}.map`, { force: true })
    removed++
  }
  return removed
}

let declared = closure(entries, referenced)
if (rebuildIfMissing(declared, 'tsconfig.types.json', '.tsbuildinfo-types')) declared = closure(entries, referenced)
const binEntries = [...readFileSync(join(root, 'bin/dms-net.js'), 'utf8').matchAll(/['"](\.\.\/dist\/[^'"]+\.js)['"]/g)].map((m) => normalize(join(root, 'bin', m[1])))
const jsEntries = [...Object.values(pkg.exports).flatMap((target) => typeof target === 'object' && target.import != null ? [join(root, target.import)] : []), ...binEntries]
let runnable = closure(jsEntries, loaded)
if (rebuildIfMissing(runnable, 'tsconfig.build.json', '.tsbuildinfo-js')) runnable = closure(jsEntries, loaded)
const removedDeclarations = prune('.d.ts', declared)
const removedModules = prune('.js', runnable)
if (process.argv.includes('--verbose')) console.log(`kept ${declared.size} declaration files and ${runnable.size} modules, removed ${removedDeclarations} and ${removedModules} (${relative(root, dist)})`)
