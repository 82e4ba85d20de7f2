/** Namespace tests need root; elsewhere they are skipped with this reason. */
export const isRoot = process.getuid?.() === 0;
export const NEEDS_ROOT = 'network namespace tests need root';
