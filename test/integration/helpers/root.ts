/** Namespace tests need root; elsewhere they are skipped with this reason. */
export const isRoot = process.getuid?.() === 0;
export const NEEDS_ROOT = 'network namespace tests need root';

/** Integration tests touch the kernel: without root they fail loudly rather than pass by skipping. */
export function requireRoot(): void {
  if (!isRoot) throw new Error(NEEDS_ROOT);
}
