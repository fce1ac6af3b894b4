#!/usr/bin/env node
// Part of `npm run build`: keeps only the declarations an embedder's compiler can reach, those of
// the package's `exports` and what they import; the CLI's, the daemon's and other internal modules'
// declarations are removed from dist/ (they would only make the package bigger). Likewise only the
// JavaScript the exports and bin/dms-net.js can load stays (every import in dist/ is a literal path;
// build-time tools such as the chart renderer read the TypeScript sources).
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

/** Relative modules a compiled file loads: static and dynamic imports, re-exports. */
const loaded = (file) => [...readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)]
  .map((m) => normalize(join(dirname(file), m[1])))
  .filter((path) => existsSync(path))

/** Every file reachable from `starts` through `next`. */
function closure (starts, next) {
  const reachable = new Set()
  const pending = [...starts]
  while (pending.length > 0) {
    const file = pending.pop()
    if (reachable.has(file)) continue
    reachable.add(file)
    pending.push(...next(file))
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

const declared = closure(entries, referenced)
const binEntries = [...readFileSync(join(root, 'bin/dms-net.js'), 'utf8').matchAll(/['"](\.\.\/dist\/[^'"]+\.js)['"]/g)].map((m) => normalize(join(root, 'bin', m[1])))
const jsEntries = [...Object.values(pkg.exports).flatMap((target) => typeof target === 'object' && target.import != null ? [join(root, target.import)] : []), ...binEntries]
const runnable = closure(jsEntries, loaded)
const removedDeclarations = prune('.d.ts', declared)
const removedModules = prune('.js', runnable)
if (process.argv.includes('--verbose')) console.log(`kept ${declared.size} declaration files and ${runnable.size} modules, removed ${removedDeclarations} and ${removedModules} (${relative(root, dist)})`)
