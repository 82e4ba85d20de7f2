/**
 * Compiling 10k and 100k services: time and memory (issue 2). Validation is
 * measured separately because a commit runs it once before compiling.
 */
import { compile } from '../appliance/compile/compile.js';
import { validateSemantics } from '../appliance/compile/validate-semantics.js';
import { validateTree } from '../mgmt/schema/validate-tree.js';
import { scaleConfig } from './scale-config.js';

function measure<T>(fn: () => T): { ms: number; result: T } {
  const start = process.hrtime.bigint();
  const result = fn();
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, result };
}

const mib = (n: number) => (n / 2 ** 20).toFixed(0);

for (const n of [10, 10_000, 100_000]) {
  const config = scaleConfig(n);
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const tree = measure(() => validateTree(JSON.parse(JSON.stringify(config))));
  const semantic = measure(() => validateSemantics(tree.result.config));
  const compiled = measure(() => compile(tree.result.config));
  const heapAfter = process.memoryUsage().heapUsed;
  if (tree.result.issues.length || semantic.result.length) throw new Error(`scale config invalid: ${JSON.stringify([...tree.result.issues, ...semantic.result].slice(0, 3))}`);
  console.log(
    `compile ${String(n).padStart(6)} services: schema ${tree.ms.toFixed(0)} ms, semantics ${semantic.ms.toFixed(0)} ms, ` +
      `compile ${compiled.ms.toFixed(0)} ms → ${compiled.result.rows.length} rows; heap +${mib(heapAfter - heapBefore)} MiB, rss ${mib(process.memoryUsage().rss)} MiB`,
  );
}
