import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PackageInfo {
  readonly name: string;
  readonly version: string;
}

/** Hive's name and version from its package.json, found by walking up from this file (works in src and dist). */
function readPackageInfo(): PackageInfo {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Partial<PackageInfo>;
      if (pkg.name === 'hive' && typeof pkg.version === 'string') return { name: pkg.name, version: pkg.version };
    } catch {
      // not here: keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) return { name: 'hive', version: '0.0.0' };
    dir = parent;
  }
}

export const PACKAGE: PackageInfo = readPackageInfo();
