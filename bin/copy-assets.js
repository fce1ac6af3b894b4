#!/usr/bin/env node
// Part of `npm run build`: copies the non-TypeScript files the compiled code reads into dist/.
import { copyFileSync, mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = dirname(dirname(fileURLToPath(import.meta.url)))
for (const file of ['runtime/inspect/page.html']) {
  mkdirSync(dirname(join(root, 'dist', file)), { recursive: true })
  copyFileSync(join(root, file), join(root, 'dist', file))
}
