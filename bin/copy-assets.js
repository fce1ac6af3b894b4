#!/usr/bin/env node
// Part of `npm run build`: copies the non-TypeScript files the compiled code reads into dist/.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = dirname(dirname(fileURLToPath(import.meta.url)))
for (const file of ['runtime/inspect/page.html']) {
  mkdirSync(dirname(join(root, 'dist', file)), { recursive: true })
  // indentation and whole-line comments dropped: the page ships in the package, which has a size limit
  // (nothing on the page depends on leading whitespace: <pre> text comes from scripts)
  const isComment = (line) => line.startsWith('// ') || (line.startsWith('/**') && line.endsWith('*/'))
  const text = readFileSync(join(root, file), 'utf8').split('\n').map((line) => line.trimStart()).filter((line) => !isComment(line)).join('\n')
  writeFileSync(join(root, 'dist', file), text)
}
