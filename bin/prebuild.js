#!/usr/bin/env node
// Part of `npm pack`: ships the addons built on this machine as the prebuilt
// binaries for its platform (prebuilds/<platform>-<arch>/), so installs on the
// same platform need no compiler. N-API: one binary serves every Node >= 20.
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const built = join(root, 'native', 'build', 'Release')
const target = join(root, 'prebuilds', `${process.platform}-${process.arch}`)
const names = ['tun', 'xsalsa20', 'aead']
const missing = names.filter((name) => !existsSync(join(built, `${name}.node`)))
if (missing.length > 0) {
  process.stderr.write(`prebuild: ${missing.join(', ')} not built in native/build/Release; run npm rebuild first\n`)
  process.exit(1)
}
mkdirSync(target, { recursive: true })
for (const name of names) {
  const to = join(target, `${name}.node`)
  // without debug symbols: half the size; a copy when strip(1) is not installed
  if (spawnSync('strip', ['--strip-unneeded', '-o', to, join(built, `${name}.node`)]).status !== 0) copyFileSync(join(built, `${name}.node`), to)
}
process.stdout.write(`prebuild: ${names.join(', ')} for ${process.platform}-${process.arch} in prebuilds/\n`)
